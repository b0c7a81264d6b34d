'use strict'
// Issue 5, item 4: Redis is down when the application starts. README "When Redis misbehaves":
// "the store is constructed, keeps connecting in the background (backoff 50 ms doubling to
// 500 ms, with jitter); the application sees `disconnect`; operations fail at once with
// ERR_REDIS_CONNECTION; `connect` once Redis is up".

const { spawn } = require('node:child_process')
const path = require('node:path')
const test = require('ava')
const { startRedis, freePort } = require('../scripts/redis-server')
const { named: RedisStore } = require('./helpers/forms')
const { waitFor } = require('./helpers/redis')
const { sleep, timed, within, recordEvents, countBy, closeQuietly } = require('../scripts/fault-tools')

const sess = (n) => ({ cookie: { originalMaxAge: 3600000 }, n })

test('Redis down at startup: constructed, disconnect, operations fail in < 100 ms, connects by itself when Redis comes up', async (t) => {
  t.timeout(60000)
  const port = await freePort()
  const t0 = Date.now()
  let store
  t.notThrows(() => {
    store = new RedisStore({ host: '127.0.0.1', port, prefix: 'startup:' })
  }, 'the store is constructed while Redis is down')
  const events = recordEvents(store)
  let r
  try {
    t.false(store.client.connected)
    const first = await timed(store, 'get', ['a'])
    await waitFor(() => events.some((e) => e.name === 'disconnect'), { timeout: 2000 })
    const down = events.find((e) => e.name === 'disconnect')
    t.truthy(down, "'disconnect' is emitted")
    t.true(down && down.at - t0 < 1000, `soon after construction (${down && down.at - t0} ms)`)
    t.is(down && down.err && down.err.code, 'ERR_REDIS_CONNECTION')
    t.regex((down && down.err && down.err.message) || '', new RegExp(`^connect-redis-rs: .*127\\.0\\.0\\.1:${port}`))

    const kinds = [
      ['get', ['a']],
      ['set', ['a', sess(1)]],
      ['touch', ['a', sess(1)]],
      ['destroy', ['a']],
      ['ids', []],
      ['length', []],
      ['all', []],
      ['clear', []],
    ]
    const ops = [first]
    for (let i = 0; i < 24; i++) {
      const [method, args] = kinds[i % kinds.length]
      ops.push(await timed(store, method, args))
      await sleep(60)
    }
    t.log(`while down: ${JSON.stringify(countBy(ops, (o) => `${o.method}:${o.ok ? 'ok' : o.err.code}`))}; slowest ${Math.max(...ops.map((o) => o.ms))} ms; events ${events.map((e) => `${e.name}@${e.at - t0}`).join(' ')}`)
    t.deepEqual(ops.filter((o) => o.ok || o.err.code !== 'ERR_REDIS_CONNECTION').map((o) => [o.method, o.err]), [], 'every operation fails with ERR_REDIS_CONNECTION')
    t.deepEqual(ops.filter((o) => o.ms >= 100).map((o) => [o.method, o.ms]), [], 'every operation fails in under 100 ms (the first one included)')

    r = await startRedis({ port })
    const readyAt = Date.now()
    await waitFor(() => events.some((e) => e.name === 'connect'), { timeout: 5000 })
    const up = events.find((e) => e.name === 'connect')
    t.truthy(up, "'connect' once Redis is up")
    t.true(up && up.at - readyAt <= 1000, `connected within 1 s of Redis being up (backoff is at most 500 ms + 25%): ${up && up.at - readyAt} ms`)
    t.true(store.client.connected)
    t.is(await store.set('a', sess(1)), 'OK')
    t.deepEqual(await store.get('a'), sess(1))
    t.is(events.filter((e) => e.name === 'disconnect').length, 1, "one 'disconnect' for the whole outage, not one per attempt")
  } finally {
    await closeQuietly(store)
    if (r) await r.close()
  }
})

test('Redis down at startup, nobody listening for events: the process neither crashes nor is kept alive', async (t) => {
  const port = await freePort()
  const script = `
    const { RedisStore } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const seen = []
    process.on('unhandledRejection', (e) => { seen.push('unhandledRejection: ' + e); process.exitCode = 3 })
    process.on('uncaughtException', (e) => { seen.push('uncaughtException: ' + e); process.exitCode = 4 })
    process.on('exit', () => { if (seen.length) console.error(seen.join('\\n')) })
    const store = new RedisStore({ host: '127.0.0.1', port: ${port} })
    store.get('x', (err) => { console.log('callback', err && err.code) })
    store.set('x', { cookie: {} }).catch((err) => console.log('promise', err.code))
    console.log('constructed')
  `
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const started = Date.now()
  const exit = await within(
    new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    10000,
    () => null,
  )
  if (!exit) child.kill('SIGKILL')
  t.log(`exit ${JSON.stringify(exit)} after ${Date.now() - started} ms; stdout ${JSON.stringify(stdout)}; stderr ${JSON.stringify(stderr)}`)
  t.truthy(exit, 'the process ended by itself (the store does not keep it alive)')
  t.deepEqual(exit, { code: 0, signal: null }, 'exit code 0: no crash, no unhandled rejection')
  t.regex(stdout, /constructed/)
  t.regex(stdout, /callback ERR_REDIS_CONNECTION/)
  t.regex(stdout, /promise ERR_REDIS_CONNECTION/)
  t.is(stderr, '')
})
