'use strict'
// Redis Cluster, 3 primaries with one replica each, started from redis-server processes
// (scripts/redis-cluster.js) and shared by this file:
//   - the lifecycle suite of the foundation issue, unchanged, with `cluster: [{ host, port }]`;
//   - 10,000 sessions spread over the slots of every primary are all found by ids/length/all
//     and removed by clear; destroy([...]) across slots;
//   - one command never carries keys of two slots (MONITOR on every primary during
//     all/clear/destroy; the keys of every MGET/DEL/UNLINK hash to one slot, CRC16 computed here);
//   - seed URLs, readFromReplicas, events and store.client, bad cluster options.

const test = require('ava')
const { startCluster, keySlot } = require('../scripts/redis-cluster')
const { forms, named: RedisStore } = require('./helpers/forms')
const { uid, waitFor, sleep } = require('./helpers/redis')
const { lifecycleSuite, sess, plain } = require('./helpers/lifecycle-suite')
const { clusterRedis, monitorMany, crossSlotCommands, useTopology } = require('./helpers/topology')

let c
const stores = useTopology(test, async () => (c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })))

function make(opts = {}, Store = RedisStore) {
  const store = new Store({ cluster: c.seeds, ...opts })
  stores.push(store)
  return store
}

lifecycleSuite(test, () => ({ cluster: c.seeds }), () => clusterRedis(c), { title: 'cluster ' })

/** Writes n sessions through the store, `parallel` at a time; resolves with their ids. */
async function fill(store, n, { parallel = 1000, label = 's' } = {}) {
  const ids = []
  for (let i = 0; i < n; i += parallel) {
    const batch = []
    for (let j = i; j < Math.min(n, i + parallel); j++) {
      const id = `${label}${j}`
      ids.push(id)
      batch.push(store.set(id, sess(j)))
    }
    await Promise.all(batch)
  }
  return ids
}

/** Number of keys matching a pattern on each running primary: { port: count }. */
async function keysPerPrimary(pattern) {
  const out = {}
  for (const p of await c.primaries()) out[p.port] = (await p.server.cli('KEYS', pattern)).split('\n').filter(Boolean).length
  return out
}

test.serial('10,000 sessions over the slots of every primary: ids, length, all find every one; clear removes every one', async (t) => {
  const prefix = uid('bulk')
  const store = make({ prefix })
  const ids = await fill(store, 10000)

  const slots = new Set(ids.map((id) => keySlot(prefix + id)))
  t.true(slots.size > 4000, `the keys cover ${slots.size} slots`)
  const perPrimary = await keysPerPrimary(`${prefix}*`)
  t.is(Object.keys(perPrimary).length, 3)
  for (const [port, count] of Object.entries(perPrimary)) t.true(count > 2500, `primary ${port} holds ${count} of the sessions`)
  t.is(Object.values(perPrimary).reduce((a, b) => a + b, 0), 10000, 'every session is on a primary')

  const found = await store.ids()
  t.is(found.length, 10000, 'ids() finds every session')
  t.is(new Set(found).size, 10000, 'ids() has no duplicates (replicas are not scanned as well)')
  t.deepEqual([...found].sort(), [...ids].sort())
  t.is(await store.length(), 10000, 'length()')

  const all = await store.all()
  t.is(all.length, 10000, 'all() gives every session')
  const byId = new Map(all.map((s) => [s.id, s]))
  t.is(byId.size, 10000)
  t.deepEqual(byId.get('s0'), { ...plain(sess(0)), id: 's0' })
  t.deepEqual(byId.get('s9999'), { ...plain(sess(9999)), id: 's9999' })
  t.true(all.every((s) => s.n === Number(s.id.slice(1))), 'every session has its own value')

  t.is(await store.clear(), 10000, 'clear() deletes every session')
  t.deepEqual(Object.values(await keysPerPrimary(`${prefix}*`)), [0, 0, 0], 'no session left on any primary')
  t.is(await store.length(), 0)
})

test.serial('destroy([...]) deletes ids whose keys live in different slots and on different primaries', async (t) => {
  const prefix = uid('destroy')
  const store = make({ prefix })
  const ids = await fill(store, 600)
  const victims = ids.slice(0, 500)
  const owners = new Set()
  for (const id of victims.slice(0, 60)) owners.add(await c.primaryForKey(prefix + id))
  t.is(owners.size, 3, 'the ids span all three primaries')
  t.true(new Set(victims.map((id) => keySlot(prefix + id))).size > 400, 'the ids span hundreds of slots')

  t.is(await store.destroy([...victims, 'missing-1', 'missing-2']), 500, 'destroy([...]) counts every deleted key')
  t.is(await store.length(), 100)
  t.deepEqual([...(await store.ids())].sort(), ids.slice(500).sort())
  t.is(await store.destroy([]), 0, 'destroy([]) deletes nothing')
  t.is(await store.destroy(ids.slice(500, 501)), 1)
  await store.clear()
})

test.serial('one command never carries keys of two slots (MONITOR on every primary during all/clear/destroy)', async (t) => {
  const prefix = uid('slots')
  // Keys that share a hash tag must still be grouped by slot like any other key.
  const tagged = uid('{tag}slots')
  const store = make({ prefix })
  const taggedStore = make({ prefix: tagged })
  const ids = await fill(store, 3000)
  await fill(taggedStore, 300, { label: 't' })
  t.is(new Set((await taggedStore.ids()).map((id) => keySlot(tagged + id))).size, 1, 'hash-tagged keys all in one slot')

  const mon = await monitorMany((await c.primaries()).map((n) => n.server))
  t.is((await store.all()).length, 3000)
  t.is((await taggedStore.all()).length, 300)
  t.is(await store.destroy(ids.slice(0, 1000)), 1000)
  t.is(await store.clear(), 2000)
  t.is(await taggedStore.destroy(['t1', 't2', 't3']), 3)
  t.is(await taggedStore.clear(), 297)
  const entries = await mon.stop()

  const byCmd = {}
  for (const e of entries) byCmd[e.cmd] = (byCmd[e.cmd] || 0) + 1
  t.log('commands seen on the primaries:', JSON.stringify(byCmd))
  t.true((byCmd.MGET || 0) > 0, 'all() read with MGET')
  t.true((byCmd.DEL || 0) + (byCmd.UNLINK || 0) > 0, 'destroy/clear deleted with DEL or UNLINK')
  t.deepEqual(crossSlotCommands(entries), [], 'no MGET/DEL/UNLINK carries keys of two slots')

  const nodesScanned = new Set(entries.filter((e) => e.cmd === 'SCAN').map((e) => e.node))
  t.is(nodesScanned.size, 3, 'SCAN ran on every primary')
  const biggest = Math.max(0, ...entries.filter((e) => ['MGET', 'DEL', 'UNLINK'].includes(e.cmd)).map((e) => e.args.length))
  t.true(biggest <= 500, `no bulk command carries more than 500 keys (largest: ${biggest})`)
  // The store's keys went to the primary that owns their slot (no MOVED round trips needed).
  for (const e of entries.filter((x) => ['MGET', 'DEL', 'UNLINK'].includes(x.cmd)).slice(0, 50)) {
    t.is(await c.primaryForKey(e.args[0]), e.node, `${e.cmd} sent to the owner of its slot`)
  }
})

test('seed nodes given as URLs work like { host, port }', async (t) => {
  const prefix = uid('urls')
  const store = make({ prefix, cluster: c.seedUrls })
  await fill(store, 200)
  t.is(await store.length(), 200)
  t.deepEqual(await store.get('s7'), plain(sess(7)))
  t.is(await store.clear(), 200)
  // A single seed is enough to discover the whole cluster.
  const one = make({ prefix, cluster: [c.seedUrls[2]] })
  await fill(one, 100)
  t.is(await one.length(), 100, 'ids found on every primary from a single seed')
  t.is(await one.clear(), 100)
})

test('both API forms accept the cluster option', async (t) => {
  for (const { name, Store } of forms) {
    const prefix = uid(`forms-${name}`)
    const store = make({ prefix }, Store)
    t.is(await store.set('a', sess(1)), 'OK', name)
    t.deepEqual(await store.get('a'), plain(sess(1)), name)
    t.is(await store.clear(), 1, name)
  }
})

test.serial('readFromReplicas: false (default) reads from primaries; true reads from replicas', async (t) => {
  const prefix = uid('replicas')
  const writer = make({ prefix })
  const ids = await fill(writer, 30)
  await sleep(300) // replication is asynchronous

  const replicas = (await c.replicas()).map((n) => n.server)
  const primaries = (await c.primaries()).map((n) => n.server)
  t.is(replicas.length, 3)

  const readDefault = make({ prefix })
  await readDefault.get('warm-up')
  let mon = await monitorMany([...primaries, ...replicas])
  for (const id of ids) t.deepEqual(await readDefault.get(id), plain(sess(Number(id.slice(1)))))
  let gets = (await mon.stop()).filter((e) => e.cmd === 'GET' && e.args[0].startsWith(prefix))
  t.is(gets.length, 30)
  t.true(gets.every((e) => primaries.some((p) => p.port === e.node)), 'every GET went to a primary by default')

  const readReplicas = make({ prefix, readFromReplicas: true })
  await readReplicas.get('warm-up')
  mon = await monitorMany([...primaries, ...replicas])
  for (const id of ids) t.deepEqual(await readReplicas.get(id), plain(sess(Number(id.slice(1)))))
  gets = (await mon.stop()).filter((e) => e.cmd === 'GET' && e.args[0].startsWith(prefix))
  t.is(gets.length, 30)
  t.true(gets.every((e) => replicas.some((r) => r.port === e.node)), 'every GET went to a replica with readFromReplicas: true')
  // Writes still go to the primaries.
  t.is(await readReplicas.set('w', sess(1)), 'OK')
  t.is(await c.cliRouted('EXISTS', `${prefix}w`), '1')
  await writer.clear()
})

test('events and store.client: connect, connected, address, quit', async (t) => {
  const store = make({ prefix: uid('events') })
  const connected = new Promise((resolve) => store.once('connect', resolve))
  await store.set('a', sess(1))
  await Promise.race([connected, sleep(5000).then(() => t.fail('no connect event within 5 s'))])
  t.true(await waitFor(() => store.client.connected), 'store.client.connected')
  t.is(typeof store.client.address, 'string')
  const ports = c.nodes.map((n) => String(n.port))
  t.true(ports.some((p) => store.client.address.includes(p)), `address names a cluster node: ${store.client.address}`)
  await store.clear()
  await new Promise((resolve) => store.client.quit(resolve))
  const err = await t.throwsAsync(store.get('a'))
  t.is(err.code, 'ERR_REDIS_CLOSED', `after quit: ${err.message}`)
})

test('bad cluster options are a TypeError with ERR_INVALID_ARG_VALUE', (t) => {
  for (const cluster of [[], 'not-a-list', [{ host: '127.0.0.1', port: 70000 }], ['not a url'], [42]]) {
    const err = t.throws(() => new RedisStore({ cluster }), { instanceOf: TypeError }, JSON.stringify(cluster))
    if (err) t.is(err.code, 'ERR_INVALID_ARG_VALUE', `${JSON.stringify(cluster)}: ${err.message}`)
  }
})

test('a cluster whose seeds are all unreachable: operations fail with ERR_REDIS_CONNECTION, a disconnect event, no crash', async (t) => {
  const store = new RedisStore({ cluster: [{ host: '127.0.0.1', port: 1 }], connectTimeout: 500, commandTimeout: 1500 })
  stores.push(store)
  const disconnected = new Promise((resolve) => store.once('disconnect', resolve))
  const err = await t.throwsAsync(store.get('x'))
  t.is(err.code, 'ERR_REDIS_CONNECTION', err.message)
  const d = await Promise.race([disconnected, sleep(5000)])
  t.true(d instanceof Error, 'disconnect event carries the error')
})
