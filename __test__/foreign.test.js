'use strict'
// The foreign path in general: which objects are accepted as `client`, what the error says
// for those that are not, and how stores share a user's client. The per-client lifecycle
// suites are in foreign-*.test.js.

const test = require('ava')
const { EventEmitter } = require('node:events')
const { named, factory } = require('./helpers/forms')
const { uid, useRedis } = require('./helpers/redis')

const r = useRedis(test)

test('an object that is no Redis client is a TypeError naming the methods it lacks', (t) => {
  for (const Store of [named, factory]) {
    const err = t.throws(() => new Store({ client: { get() {}, scan() {} } }), { instanceOf: TypeError })
    t.is(err.code, 'ERR_INVALID_ARG_VALUE')
    t.regex(err.message, /`client`/)
    t.regex(err.message, /no sendCommand, no call, and lacks set, expire, del, mget/)
    const empty = t.throws(() => new Store({ client: {} }), { instanceOf: TypeError })
    t.regex(empty.message, /lacks get, set, expire, del, scan, mget/)
  }
})

test('a client that is not an object is a TypeError', (t) => {
  for (const client of [42, 'redis://127.0.0.1:6379', true]) {
    t.throws(() => new named({ client }), { instanceOf: TypeError, message: /`client`/ })
  }
})

test("an object with node_redis's callback methods is used the node_redis way (connect-redis 3.x's calls)", async (t) => {
  const calls = []
  const data = new Map()
  const reply = (cb, value) => process.nextTick(cb, null, value)
  const client = {
    get: (key, cb) => (calls.push(['get', key]), reply(cb, data.has(key) ? data.get(key) : null)),
    set: (args, cb) => (calls.push(['set', args]), data.set(args[0], args[1]), reply(cb, 'OK')),
    expire: (key, ttl, cb) => (calls.push(['expire', key, ttl]), reply(cb, data.has(key) ? 1 : 0)),
    del: (keys, cb) => {
      calls.push(['del', keys])
      const list = [].concat(keys)
      reply(cb, list.filter((k) => data.delete(k)).length)
    },
    scan: (cursor, match, pattern, count, n, cb) => (calls.push(['scan', cursor, match, pattern, count, n]), reply(cb, ['0', [...data.keys()]])),
    mget: (keys, cb) => (calls.push(['mget', keys]), reply(cb, keys.map((k) => data.get(k) ?? null))),
  }
  const store = new factory({ client, prefix: 'p:', ttl: 60 })
  t.is(store.client, client)
  t.is(await store.set('a', { n: 1 }), 'OK')
  t.deepEqual((await store.get('a')).n, 1)
  t.is(await store.touch('a', {}), 1)
  t.deepEqual(await store.ids(), ['a'])
  t.deepEqual(await store.all(), [{ n: 1, id: 'a' }])
  t.is(await store.destroy('a'), 1)
  t.deepEqual(calls, [
    ['set', ['p:a', '{"n":1}', 'EX', 60]],
    ['get', 'p:a'],
    ['expire', 'p:a', 60],
    ['scan', '0', 'MATCH', 'p:*', 'COUNT', 100],
    ['scan', '0', 'MATCH', 'p:*', 'COUNT', 100],
    ['mget', ['p:a']],
    ['del', 'p:a'],
  ])
})

test("stores sharing one client add one listener per event to it, and the last close() removes them; the client stays open", async (t) => {
  const client = require('redis-5').createClient({ url: r.url })
  await client.connect()
  try {
    const before = client.listenerCount('error')
    const stores = Array.from({ length: 12 }, (_, i) => new named({ client, prefix: uid(`share${i}`) }))
    t.is(client.listenerCount('error'), before + 1)
    t.is(client.listenerCount('ready'), 1)
    await Promise.all(stores.map((s, i) => s.set('a', { i })))
    t.deepEqual(await Promise.all(stores.map((s) => s.get('a').then((x) => x.i))), stores.map((_, i) => i))
    for (const s of stores.slice(1)) await s.close()
    t.is(client.listenerCount('error'), before + 1, 'one store still attached')
    await stores[0].close()
    t.is(client.listenerCount('error'), before)
    t.is(client.listenerCount('ready'), 0)
    t.true(client.isReady, "close() leaves the user's client open")
    t.is(await client.get(`${stores[0].prefix}a`), '{"i":0}')
  } finally {
    await client.quit()
  }
})

test("an 'error' on the user's client while a store listens is a 'disconnect' and a logErrors call, not a crash", (t) => {
  // A minimal node_redis-like client whose events the test drives.
  const client = new EventEmitter()
  for (const m of ['get', 'set', 'expire', 'del', 'scan', 'mget']) client[m] = () => {}
  client.ready = true
  const logged = []
  const store = new factory({ client, logErrors: (err) => logged.push(err.message) })
  const events = []
  store.on('disconnect', (err) => events.push(`disconnect: ${err.message}`))
  store.on('connect', () => events.push('connect'))
  client.emit('error', new Error('ECONNRESET'))
  client.emit('error', new Error('ECONNREFUSED')) // same outage: reported once
  client.emit('ready')
  client.emit('end')
  t.deepEqual(events, ['disconnect: ECONNRESET', 'connect', 'disconnect: connect-redis-rs: the Redis client disconnected'])
  t.deepEqual(logged, ['ECONNRESET', 'connect-redis-rs: the Redis client disconnected'])
  store.close()
  t.is(client.listenerCount('error'), 0)
})
