#!/usr/bin/env node
'use strict'
// Runs connect-redis's own test suites, unchanged, against this package:
//
//   connect-redis 3.4.2  test/connect-redis-test.js  with tape (blue-tape), twice: with the
//                        native client, and with a node_redis 2.8 client made from the same
//                        options the way connect-redis 3.4.2 made it (the foreign path)
//   connect-redis 10.0.0 index_test.ts               with vitest, twice: with node-redis 6 (its own
//                        devDependency) and node-redis 5 as the `redis` it imports
//
// Both test files come from the npm registry at run time (`npm pack` into a temp dir) and are
// never committed. Each runs in a temp dir laid out so that the module under test (`../` for
// 3.4.2, `./` for 10.0.0) is a one-line shim over this package, its other imports (redis,
// ioredis, sinon, express-session, …) resolve to this repo's devDependencies, and its
// redis-server helper (10.0.0's tarball lacks testdata/server.ts) starts a throwaway
// redis-server (scripts/redis-server.js) on a free port.
//
// Assertions that inspect connect-redis's internals rather than behaviour fail by design in
// the runs listed in KNOWN below (README, "connect-redis's own test suites"); any other failure,
// or a known one that no longer fails, fails this script. Prints each run's counts and a total.

const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { freePort } = require('../redis-server')
const { parseTap } = require('./tap')

const REPO = path.resolve(__dirname, '..', '..')
const MODULES = path.join(REPO, 'node_modules')
const HERE = __dirname

/** Tests whose failure is expected, by run and test name, with the reason. */
const KNOWN = [
  {
    run: '3.4.2 native',
    test: 'ttl options',
    reason:
      "stubs store.client.set and expects the store to call it with connect-redis 3's node_redis arguments; " +
      'the native client sends commands from Rust (passes in the node_redis 2.8 run)',
  },
]

function log(...args) {
  console.log('[connect-redis suites]', ...args)
}

/** `npm pack name@version` into dir, extracted under dir/<name>-<version>/package. */
function fetchPackage(dir, spec) {
  const out = execFileSync('npm', ['pack', spec, '--pack-destination', dir, '--json', '--silent'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [{ filename }] = JSON.parse(out)
  const dest = path.join(dir, spec.replace('@', '-'))
  fs.mkdirSync(dest)
  execFileSync('tar', ['xzf', path.join(dir, path.basename(filename)), '-C', dest])
  return path.join(dest, 'package')
}

/** dir/node_modules/<name> → this repo's node_modules/<target> (or an absolute path). */
function link(dir, links) {
  for (const [name, target] of Object.entries(links)) {
    const at = path.join(dir, 'node_modules', name)
    fs.mkdirSync(path.dirname(at), { recursive: true })
    fs.symlinkSync(path.isAbsolute(target) ? target : path.join(MODULES, target), at, 'dir')
  }
}

/** Copies a template from this folder, filling in {{REPO}}. */
function template(name, to) {
  const text = fs.readFileSync(path.join(HERE, name), 'utf8').replaceAll('{{REPO}}', JSON.stringify(REPO))
  fs.mkdirSync(path.dirname(to), { recursive: true })
  fs.writeFileSync(to, text)
}

function runChild(command, args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60 * 1000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, err })
    })
  })
}

/** connect-redis 3.4.2: the test file unchanged, `../` the shim, tape as its runner. */
async function run3(pkgDir, tmp, mode) {
  const dir = path.join(tmp, `cr3-${mode}`)
  fs.mkdirSync(path.join(dir, 'test'), { recursive: true })
  fs.copyFileSync(path.join(pkgDir, 'test', 'connect-redis-test.js'), path.join(dir, 'test', 'connect-redis-test.js'))
  template('redis-server-3.js', path.join(dir, 'test', 'redis-server.js'))
  template(mode === 'native' ? 'shim-3-native.js' : 'shim-3-node_redis.js', path.join(dir, 'index.js'))
  link(dir, {
    'blue-tape': 'blue-tape',
    tape: 'tape',
    bluebird: 'bluebird',
    sinon: 'sinon-2',
    ioredis: 'ioredis-4', // connect-redis 3.4.2's devDependency: ioredis ^4.10.0
    redis: 'connect-redis-3/node_modules/redis', // its dependency: redis ^2.8.0
    'express-session': 'express-session',
  })
  const port = await freePort()
  const res = await runChild(process.execPath, [path.join(MODULES, 'tape', 'bin', 'tape'), 'test/connect-redis-test.js'], {
    cwd: dir,
    env: { CONNECT_REDIS_SUITE_PORT: String(port) },
  })
  return { ...res, ...parseTap(res.out) }
}

/** connect-redis 10.0.0: index_test.ts unchanged, `./` the shim, vitest as its runner. */
async function run10(pkgDir, tmp, redis) {
  const dir = path.join(tmp, `cr10-${redis}`)
  fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(path.join(pkgDir, 'index_test.ts'), path.join(dir, 'index_test.ts'))
  template('server-10.ts', path.join(dir, 'testdata', 'server.ts'))
  template('shim-10.js', path.join(dir, 'index.js'))
  template('vitest.config.mjs', path.join(dir, 'vitest.config.mjs'))
  link(dir, {
    vitest: 'vitest',
    redis, // redis-6: connect-redis 10.0.0's devDependency (redis ^6.1.0); redis-5: its peer range starts there
    'express-session': 'express-session',
    'connect-redis-rs': REPO,
  })
  const port = await freePort()
  const report = path.join(dir, 'report.json')
  const res = await runChild(
    process.execPath,
    [path.join(MODULES, 'vitest', 'vitest.mjs'), 'run', '--config', 'vitest.config.mjs', '--reporter=verbose', '--reporter=json', `--outputFile.json=${report}`],
    { cwd: dir, env: { CONNECT_REDIS_SUITE_PORT: String(port) } },
  )
  let passed = 0
  const failures = []
  try {
    const json = JSON.parse(fs.readFileSync(report, 'utf8'))
    for (const file of json.testResults) {
      for (const a of file.assertionResults) {
        if (a.status === 'passed') passed++
        else failures.push({ test: a.title, message: (a.failureMessages || []).join('\n').split('\n')[0] })
      }
    }
  } catch (err) {
    failures.push({ test: '(vitest report)', message: err.message })
  }
  return { ...res, passed, failures, unit: 'tests' }
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crr-suites-'))
  let ok = true
  const totals = { passed: 0, failed: 0, expected: 0 }
  try {
    log(`fetching connect-redis@3.4.2 and connect-redis@10.0.0 into ${tmp}`)
    const pkg3 = fetchPackage(tmp, 'connect-redis@3.4.2')
    const pkg10 = fetchPackage(tmp, 'connect-redis@10.0.0')

    const runs = [
      ['3.4.2 native', 'connect-redis 3.4.2 test/connect-redis-test.js (tape), native client', () => run3(pkg3, tmp, 'native')],
      ['3.4.2 node_redis', 'connect-redis 3.4.2 test/connect-redis-test.js (tape), node_redis 2.8 client', () => run3(pkg3, tmp, 'node_redis')],
      ['10.0.0 node-redis 6', 'connect-redis 10.0.0 index_test.ts (vitest), node-redis 6 client', () => run10(pkg10, tmp, 'redis-6')],
      ['10.0.0 node-redis 5', 'connect-redis 10.0.0 index_test.ts (vitest), node-redis 5 client', () => run10(pkg10, tmp, 'redis-5')],
    ]
    for (const [id, title, run] of runs) {
      const res = await run()
      const known = KNOWN.filter((k) => k.run === id)
      const expected = res.failures.filter((f) => known.some((k) => k.test === f.test))
      const unexpected = res.failures.filter((f) => !known.some((k) => k.test === f.test))
      const missing = known.filter((k) => !res.failures.some((f) => f.test === k.test))
      const crashed = res.signal || (res.code !== 0 && res.failures.length === 0)
      log(`${title}: ${res.passed} ${res.unit} passed, ${unexpected.length} failed` + (expected.length ? `, ${expected.length} failed as expected` : ''))
      for (const f of expected) log(`  expected (inspects internals): ${f.test}: ${f.message}`)
      for (const f of unexpected) log(`  FAILED: ${f.test}: ${f.message}`)
      for (const k of missing) log(`  NOTE: '${k.test}' was expected to fail in this run and did not; update KNOWN`)
      if (crashed) log(`  runner exited with ${res.signal || res.code}`)
      if (unexpected.length || missing.length || crashed || res.passed === 0) {
        ok = false
        process.stdout.write(res.out.split('\n').map((l) => `    | ${l}`).join('\n') + '\n')
        process.stdout.write(res.err.split('\n').map((l) => `    ! ${l}`).join('\n') + '\n')
      }
      totals.passed += res.passed
      totals.failed += unexpected.length + (crashed ? 1 : 0)
      totals.expected += expected.length
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  for (const k of KNOWN) log(`known: ${k.run} '${k.test}': ${k.reason}`)
  console.log(`suites: ${totals.passed} passed, ${totals.failed} failed`)
  process.exitCode = ok ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
