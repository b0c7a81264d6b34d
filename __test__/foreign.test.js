'use strict'
// The foreign path: a store built on a client the application already has. Every operation
// goes through that client; results and events are the native path's.

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { named, factory, session } = require('./helpers/forms')
const { waitFor, uid } = require('./helpers/redis')

let r

const clients = {
  'node-redis 5': async () => {
    const c = require('redis-5').createClient({ url: r.url })
    c.on('error', () => {})
    await c.connect()
    return { client: c, quit: () => c.quit().catch(() => {}) }
  },
  ioredis: async () => {
    const Redis = require('ioredis')
    const c = new Redis(r.port, { lazyConnect: true, retryStrategy: () => 50 })
    await c.connect()
    return { client: c, quit: () => c.quit().catch(() => {}) }
  },
  'node_redis 2.8': async () => {
    const c = require('connect-redis-3/node_modules/redis').createClient(r.port, '127.0.0.1', { retry_strategy: () => 50 })
    await new Promise((resolve) => c.once('ready', resolve))
    return { client: c, quit: () => new Promise((resolve) => c.quit(() => resolve())) }
  },
}

test.before(async () => {
  r = await startRedis()
})

test.after.always(async () => {
  if (r) await r.close()
})

for (const [name, make] of Object.entries(clients)) {
  for (const [form, Store] of [['class', named], ['factory', factory]]) {
    test.serial(`${name} (${form} form): every operation goes through the user's client with the native results`, async (t) => {
      const { client, quit } = await make()
      const prefix = `${uid('f')}[1]:`
      const store = new Store({ client, prefix })
      try {
        t.is(store.client, client)
        const sess = new session.Cookie({ maxAge: 60_000 })
        t.is(await store.set('a', { cookie: sess, n: 1 }), 'OK')
        const ttl = Number(await r.cli('TTL', `${prefix}a`))
        t.true(ttl > 55 && ttl <= 60, `TTL ${ttl}`)
        t.is((await store.get('a')).n, 1)
        t.is(await store.get('missing'), null)
        t.is(await store.touch('a', { cookie: { maxAge: 120_000 } }), 1)
        t.is(await store.touch('missing', { cookie: { maxAge: 120_000 } }), 0)
        t.true(Number(await r.cli('TTL', `${prefix}a`)) > 100)
        await store.set('b', { n: 2 })
        await r.cli('SET', `${prefix.replace('[1]', '1')}x`, 'another app')
        t.deepEqual((await store.ids()).sort(), ['a', 'b'])
        t.is(await store.length(), 2)
        t.deepEqual((await store.all()).map((s) => [s.id, s.n]).sort(), [['a', 1], ['b', 2]])
        await r.cli('SET', `${prefix}bad`, 'not json')
        const corrupt = []
        store.on('corrupt', (sid) => corrupt.push(sid))
        t.is(await store.get('bad'), null)
        t.deepEqual(corrupt, ['bad'])
        t.is(await store.destroy(['a', 'nope']), 1)
        const viaCallback = await new Promise((resolve) => store.get('b', (err, value) => resolve([err, value])))
        t.is(viaCallback[0], null)
        t.is(viaCallback[1].n, 2)
        t.is(await store.clear(), 2)
        t.is(await r.cli('GET', `${prefix.replace('[1]', '1')}x`), 'another app')
      } finally {
        await store.close()
        await quit()
      }
    })
  }

  test.serial(`${name}: the user's client going away is a 'disconnect', its return a 'connect'`, async (t) => {
    const { client, quit } = await make()
    const store = new named({ client })
    const events = []
    store.on('connect', () => events.push('connect'))
    store.on('disconnect', () => events.push('disconnect'))
    try {
      await r.stop()
      await waitFor(() => events.includes('disconnect'), { timeout: 5000 })
      await r.start()
      await waitFor(() => events.includes('connect'), { timeout: 5000 })
      t.is(await store.set('back', { n: 1 }), 'OK')
      t.deepEqual(events.slice(0, 1), ['disconnect'])
    } finally {
      await store.close()
      await quit()
    }
  })
}

test('an object that is no Redis client is a TypeError naming what is missing', (t) => {
  const err = t.throws(() => new named({ client: { get() {} } }), { instanceOf: TypeError })
  t.regex(err.message, /`client`/)
  t.regex(err.message, /sendCommand, call or send_command/)
})
