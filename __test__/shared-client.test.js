'use strict'
// createClient(): one native connection shared by several stores with different prefixes.

const test = require('ava')
const { NATIVE_CONNECTIONS } = require('../scripts/fault-tools')
const { pkg, named, factory } = require('./helpers/forms')
const { waitFor, useRedis } = require('./helpers/redis')

const r = useRedis(test)

/** Connections to the server other than redis-cli's own. */
async function storeConnections() {
  const list = await r.cli('CLIENT', 'LIST')
  return list.split('\n').filter((line) => line && !/ cmd=client\|list /.test(line)).length
}

test.serial('several stores on one createClient() share one connection and keep their prefixes apart', async (t) => {
  const client = pkg.createClient({ port: r.port })
  const admin = new named({ client, prefix: 'admin:' })
  const users = new factory({ client, prefix: 'user:' })
  try {
    t.is(admin.client, client)
    t.is(users.client, client)
    t.is(await admin.set('a', { role: 'admin' }), 'OK')
    t.is(await users.set('a', { role: 'user' }), 'OK')
    t.is(await storeConnections(), NATIVE_CONNECTIONS, 'one client, one pair of connections')
    t.deepEqual(await admin.get('a'), { role: 'admin' })
    t.deepEqual(await users.get('a'), { role: 'user' })
    t.deepEqual(await admin.ids(), ['a'])
    t.is(await users.clear(), 1)
    t.deepEqual(await admin.get('a'), { role: 'admin' })
    t.is(await r.cli('EXISTS', 'user:a'), '0')
  } finally {
    await admin.close()
    await users.close()
    await client.quit()
  }
})

test.serial('operations of stores with different prefixes, started in one turn, each use their own prefix', async (t) => {
  const client = pkg.createClient({ port: r.port })
  const stores = { p: new named({ client, prefix: 'p:' }), q: new named({ client, prefix: 'q:' }), none: new named({ client, prefix: '' }) }
  // One turn: each operation's prefix differs from, or repeats, the one before it.
  const order = ['p', 'p', 'q', 'p', 'q', 'q', 'none', 'p', 'none']
  try {
    t.deepEqual(await Promise.all(order.map((name, i) => stores[name].set(`s${i}`, { name, i }))), order.map(() => 'OK'))
    const keys = (await r.cli('KEYS', '*')).split('\n').filter((k) => /^(p:|q:)?s\d$/.test(k)).sort()
    t.deepEqual(keys, order.map((name, i) => `${name === 'none' ? '' : `${name}:`}s${i}`).sort())
    t.deepEqual(await Promise.all(order.map((name, i) => stores[name].get(`s${i}`))), order.map((name, i) => ({ name, i })))
    t.deepEqual(await Promise.all(order.map((name, i) => stores[name].touch(`s${i}`, { cookie: { maxAge: 60000 } }))), order.map(() => 1))
    t.deepEqual(await Promise.all(order.map((name, i) => stores[name].destroy(`s${i}`))), order.map(() => 1))
  } finally {
    for (const store of Object.values(stores)) await store.close()
    await client.quit()
  }
})

test.serial("closing one store leaves the shared client to the others; quit() closes it for all", async (t) => {
  const client = pkg.createClient({ port: r.port })
  const one = new named({ client, prefix: 'one:' })
  const two = new named({ client, prefix: 'two:' })
  const disconnects = []
  two.on('disconnect', () => disconnects.push('two'))
  await one.set('x', { n: 1 })
  await one.close()
  t.true(client.connected)
  t.is(await two.set('y', { n: 2 }), 'OK')
  const inFlight = two.get('y')
  t.is(await client.quit(), 'OK')
  t.deepEqual(await inFlight, { n: 2 }, 'quit() lets in-flight operations finish')
  const err = await t.throwsAsync(two.get('y'))
  t.is(err.code, 'ERR_REDIS_CLOSED')
  t.false(client.connected)
  await waitFor(async () => (await storeConnections()) === 0)
  t.deepEqual(disconnects, [], 'a deliberate quit is an end, not a disconnect')
})

test.serial('a shared client tells every store when Redis goes away and comes back', async (t) => {
  const client = pkg.createClient({ port: r.port })
  const stores = [new named({ client, prefix: 'a:' }), new factory({ client, prefix: 'b:' })]
  const events = stores.map(() => [])
  stores.forEach((store, i) => {
    store.on('connect', () => events[i].push('connect'))
    store.on('disconnect', () => events[i].push('disconnect'))
  })
  try {
    await stores[0].set('k', { n: 1 })
    await r.stop()
    await waitFor(() => events.every((e) => e.includes('disconnect')), { timeout: 5000 })
    await r.start()
    const reconnected = (e) => e.lastIndexOf('connect') > e.indexOf('disconnect')
    await waitFor(() => events.every(reconnected), { timeout: 5000 })
    t.is(await stores[1].set('k', { n: 2 }), 'OK')
    const fromOutage = events.map((e) => e.slice(e.indexOf('disconnect')))
    t.deepEqual(fromOutage, [['disconnect', 'connect'], ['disconnect', 'connect']])
  } finally {
    for (const store of stores) await store.close()
    await client.quit()
  }
})
