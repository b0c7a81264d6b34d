'use strict'
// Issue 5, item 3 (passwords). README "When Redis misbehaves": "wrong password / ACL user: keeps
// retrying with backoff; the application sees `disconnect` with ERR_REDIS_AUTH and operations
// fail with ERR_REDIS_AUTH". A password changed on the server while the store runs is the same
// fault, found at the next reconnect (forced here with CLIENT KILL).

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { named: RedisStore } = require('./helpers/forms')
const { waitFor } = require('./helpers/redis')
const { sleep, timed, recordEvents, storeConnections, closeQuietly, NATIVE_CONNECTIONS } = require('../scripts/fault-tools')

const sess = (n) => ({ cookie: { originalMaxAge: 3600000 }, n })
const AUTH_MESSAGE = /^connect-redis-rs: .*(credentials|password|WRONGPASS|NOAUTH)/i

const timeline = (events, t0) => events.map((e) => `${e.name}@${e.at - t0}${e.err ? `(${e.err.code}: ${e.err.message})` : ''}`).join(' ')

for (const [label, password] of [
  ['a wrong password', 'wrong'],
  ['no password for a server that requires one', undefined],
]) {
  test(`${label}: disconnect with ERR_REDIS_AUTH, operations fail fast with ERR_REDIS_AUTH, connects once the password matches`, async (t) => {
    const r = await startRedis({ password: 'right' })
    const t0 = Date.now()
    const store = new RedisStore({ host: r.host, port: r.port, password, prefix: 'auth:', commandTimeout: 2000 })
    const events = recordEvents(store)
    try {
      const first = await timed(store, 'get', ['a'])
      await waitFor(() => events.some((e) => e.name === 'disconnect'), { timeout: 3000 })
      const ops = []
      for (let i = 0; i < 5; i++) {
        ops.push(await timed(store, i % 2 ? 'set' : 'get', i % 2 ? ['a', sess(i)] : ['a']))
        await sleep(100)
      }
      t.log(`first op ${JSON.stringify(first)}; events: ${timeline(events, t0)}`)
      const down = events.find((e) => e.name === 'disconnect')
      t.truthy(down, "'disconnect' is emitted")
      t.is(down && down.err && down.err.code, 'ERR_REDIS_AUTH', "'disconnect' carries ERR_REDIS_AUTH")
      t.regex((down && down.err && down.err.message) || '', AUTH_MESSAGE)
      for (const o of [first, ...ops]) {
        t.false(o.ok, `${o.method} fails`)
        t.is(o.err && o.err.code, 'ERR_REDIS_AUTH', `${o.method} fails with ERR_REDIS_AUTH`)
        t.regex((o.err && o.err.message) || '', AUTH_MESSAGE, 'a clear message about credentials')
      }
      for (const o of ops) t.true(o.ms < 100, `${o.method} after the disconnect fails fast (${o.ms} ms)`)
      t.false(store.client.connected)

      // It keeps retrying: once the server takes its password, it connects by itself.
      const fixedAt = Date.now()
      if (password === undefined) await r.cli('CONFIG', 'SET', 'requirepass', '')
      else await r.cli('CONFIG', 'SET', 'requirepass', password)
      r.password = password
      await waitFor(() => events.some((e) => e.name === 'connect'), { timeout: 3000 })
      const up = events.find((e) => e.name === 'connect')
      t.truthy(up, "'connect' once the password matches")
      t.true(up && up.at - fixedAt <= 1500, `connected within the backoff (500 ms + jitter) of the fix (${up && up.at - fixedAt} ms)`)
      t.is(await store.set('a', sess(1)), 'OK')
      t.deepEqual(await store.get('a'), sess(1))
    } finally {
      await closeQuietly(store)
      await r.close()
    }
  })
}

test('password changed while running: after the reconnect, disconnect with ERR_REDIS_AUTH and operations fail with ERR_REDIS_AUTH; recovers when it is changed back', async (t) => {
  const r = await startRedis({ password: 'one' })
  const store = new RedisStore({ host: r.host, port: r.port, password: 'one', prefix: 'pwchange:', commandTimeout: 2000 })
  const events = recordEvents(store)
  try {
    t.is(await store.set('a', sess(1)), 'OK')
    const { clients } = await storeConnections(r)
    t.is(clients.length, NATIVE_CONNECTIONS)

    await r.cli('CONFIG', 'SET', 'requirepass', 'two')
    r.password = 'two'
    t.deepEqual(await store.get('a'), sess(1), 'the open connection stays authenticated')

    const killAt = Date.now()
    for (const c of clients) await r.cli('CLIENT', 'KILL', 'ID', c.id)
    await waitFor(() => events.some((e) => e.name === 'disconnect' && e.err && e.err.code === 'ERR_REDIS_AUTH'), { timeout: 3000 })
    await sleep(200)
    const ops = [await timed(store, 'get', ['a']), await timed(store, 'set', ['a', sess(2)]), await timed(store, 'touch', ['a', sess(1)])]
    t.log(`events: ${timeline(events, killAt)}; ops: ${JSON.stringify(ops.map((o) => [o.method, o.ms, o.ok, o.err && o.err.code]))}`)
    const authDown = events.find((e) => e.name === 'disconnect' && e.at >= killAt && e.err && e.err.code === 'ERR_REDIS_AUTH')
    t.truthy(authDown, "a 'disconnect' with ERR_REDIS_AUTH once the reconnect is refused (README: wrong password -> `disconnect` with ERR_REDIS_AUTH)")
    for (const o of ops) {
      t.false(o.ok, `${o.method} fails`)
      t.is(o.err && o.err.code, 'ERR_REDIS_AUTH', `${o.method} fails with ERR_REDIS_AUTH`)
      t.true(o.ms < 100, `${o.method} fails fast (${o.ms} ms)`)
    }

    const fixedAt = Date.now()
    await r.cli('CONFIG', 'SET', 'requirepass', 'one')
    r.password = 'one'
    await waitFor(() => events.some((e) => e.name === 'connect' && e.at >= fixedAt), { timeout: 3000 })
    const up = events.find((e) => e.name === 'connect' && e.at >= fixedAt)
    t.truthy(up, "'connect' once the password is changed back")
    t.true(up && up.at - fixedAt <= 1500, `within the backoff (${up && up.at - fixedAt} ms)`)
    t.deepEqual(await store.get('a'), sess(1))
  } finally {
    await closeQuietly(store)
    await r.close()
  }
})
