'use strict'
// Reads tape's TAP output: passed assertions, and each failed one with the test it belongs to
// (the last `# name` line before it) and its first diagnostic line.

function parseTap(text) {
  let test = '(top)'
  let passed = 0
  const failures = []
  let last = null
  for (const line of text.split('\n')) {
    const header = /^# (.*)$/.exec(line)
    if (header && !/^(tests|pass|fail|ok)\b/.test(header[1])) {
      test = header[1]
      last = null
      continue
    }
    if (/^ok \d+/.test(line)) {
      passed++
      last = null
      continue
    }
    const failed = /^not ok \d+ (.*)$/.exec(line)
    if (failed) {
      last = { test, message: failed[1] }
      failures.push(last)
      continue
    }
    // The YAML block under a failure: keep the error's own message when there is one.
    const detail = /^\s+(?:message|actual):\s*(.*)$/.exec(line)
    if (last && detail && !last.detail && !/^[|>]-?$/.test(detail[1])) {
      last.detail = detail[1]
      last.message += ` (${detail[1]})`
    }
  }
  return { passed, failures, unit: 'assertions' }
}

module.exports = { parseTap }
