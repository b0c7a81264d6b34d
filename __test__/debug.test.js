'use strict'
// Debug logging (lib/debug.js): DEBUG=connect-redis-rs or NODE_DEBUG=connect-redis-rs print the
// connection's life on stderr; without either, nothing is printed. Each case runs a child node
// that connects to a throwaway redis-server (or to a closed port), waits for the event and quits.

const test = require('ava')
const { useRedis } = require('./helpers/redis')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { freePort } = require('../scripts/redis-server')
const { debugEnvEnables } = require('../lib/debug')

const root = path.join(__dirname, '..')
const r = useRedis(test)

const CHILD = `
  const { createClient } = require(${JSON.stringify(root)})
  const [port, event] = process.argv.slice(1)
  const client = createClient({ host: '127.0.0.1', port: Number(port) })
  const timer = setTimeout(() => { console.log('timed out waiting for ' + event); process.exit(2) }, 15000)
  client.once(event, () => client.quit(() => clearTimeout(timer)))
`

/** Runs the child with `env` added to an environment that has no DEBUG / NODE_DEBUG of its own. */
function runChild(port, event, env) {
  const base = { ...process.env }
  delete base.DEBUG
  delete base.NODE_DEBUG
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', CHILD, String(port), event],
      { env: { ...base, ...env }, timeout: 30000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`child failed: ${err.message}\nstdout: ${stdout}\nstderr: ${stderr}`))
        else resolve({ stdout, stderr })
      },
    )
  })
}

test('DEBUG=connect-redis-rs prints connect and closed lines on stderr', async (t) => {
  const { stderr } = await runChild(r.port, 'connect', { DEBUG: 'connect-redis-rs' })
  const address = `127.0.0.1:${r.port}`
  t.regex(stderr, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z connect-redis-rs connect ${address}$`, 'm'))
  t.regex(stderr, new RegExp(`connect-redis-rs closed ${address}$`, 'm'))
})

test('DEBUG with a wildcard in a list turns it on; an exclusion turns it off', async (t) => {
  const on = await runChild(r.port, 'connect', { DEBUG: 'express:*, connect-*' })
  t.regex(on.stderr, /connect-redis-rs connect 127\.0\.0\.1:/)
  const off = await runChild(r.port, 'connect', { DEBUG: '*,-connect-redis-rs' })
  t.is(off.stderr, '')
})

test('a failed connection is logged with its error', async (t) => {
  const port = await freePort() // nothing listens there
  const { stderr } = await runChild(port, 'disconnect', { DEBUG: 'connect-redis-rs' })
  t.regex(stderr, new RegExp(`connect-redis-rs disconnect 127\\.0\\.0\\.1:${port}: ERR_REDIS_CONNECTION `))
})

test('NODE_DEBUG=connect-redis-rs logs through util.debuglog', async (t) => {
  const { stderr } = await runChild(r.port, 'connect', { NODE_DEBUG: 'connect-redis-rs' })
  t.regex(stderr, new RegExp(`^CONNECT-REDIS-RS \\d+: connect 127\\.0\\.0\\.1:${r.port}$`, 'm'))
})

test('without DEBUG or NODE_DEBUG nothing is printed', async (t) => {
  const { stderr, stdout } = await runChild(r.port, 'connect', {})
  t.is(stderr, '')
  t.is(stdout, '')
  const other = await runChild(r.port, 'connect', { DEBUG: 'express:*', NODE_DEBUG: 'http,net' })
  t.notRegex(other.stderr, /connect-redis-rs|CONNECT-REDIS-RS/)
})

test('DEBUG matching follows the debug package', (t) => {
  t.true(debugEnvEnables('connect-redis-rs'))
  t.true(debugEnvEnables('*'))
  t.true(debugEnvEnables('foo,connect-redis-rs'))
  t.true(debugEnvEnables('foo connect-*'))
  t.true(debugEnvEnables('connect-redis-*'))
  t.false(debugEnvEnables(''))
  t.false(debugEnvEnables(undefined))
  t.false(debugEnvEnables('connect-redis'))
  t.false(debugEnvEnables('connect-redis-rs-extra'))
  t.false(debugEnvEnables('-connect-redis-rs,*'))
  t.false(debugEnvEnables('*,-connect-*'))
  t.false(debugEnvEnables('express:*'))
})
