'use strict'
// Redis Sentinel: a primary, a replica and three sentinels (scripts/redis-sentinel.js), shared by
// this file. Every test is serial, in declaration order:
//   - the lifecycle suite of the foundation issue, unchanged, with `sentinel: { sentinels, name }`;
//   - after `SENTINEL FAILOVER mymaster` under load, the store follows the new primary and the
//     ledger check holds (see below for the window Sentinel itself loses);
//   - after the primary is SIGKILLed under load, the store follows the promoted replica within a
//     bound and every acknowledged write is readable;
//   - sentinel and data-node passwords; bad sentinel options.
//
// A forced failover has a window no client can close: the old primary is not paused, it keeps
// accepting writes until the sentinels reconfigure it as a replica (~10 s later here), and what it
// accepted after the replica was promoted is discarded when it resyncs. The ledger check is
// therefore exact outside [promotion, sentinels announce the new primary + FOLLOW_MS]: a write
// acknowledged before the promotion, or started FOLLOW_MS after the sentinels switched, must be
// readable. A store that only moves on errors (READONLY at the demotion) fails that check.

const test = require('ava')
const { startSentinel } = require('../scripts/redis-sentinel')
const { parseInfo } = require('../scripts/redis-cluster')
const { named: RedisStore } = require('./helpers/forms')
const { uid, sleep, waitFor } = require('./helpers/redis')
const { lifecycleSuite, sess, plain } = require('./helpers/lifecycle-suite')
const { sentinelRedis, startWriters, lostWrites, useTopology, unexpectedFailure, summarizeErrors, recordEvents } = require('./helpers/topology')

const FOLLOW_MS = 2000
const RESUME_BOUND_MS = 15000

let s
const extraTopologies = []
const stores = useTopology(test, async () => (s = await startSentinel()), { alsoClose: extraTopologies })

const sentinelOptions = () => ({ sentinel: { sentinels: s.sentinels, name: s.name } })

function make(opts = {}) {
  const store = new RedisStore({ ...sentinelOptions(), commandTimeout: 3000, ...opts })
  stores.push(store)
  return store
}

lifecycleSuite(test, sentinelOptions, () => sentinelRedis(s), { title: 'sentinel ', serialAll: true })

test.serial('events and store.client: connect, connected, address', async (t) => {
  const store = make({ prefix: uid('events') })
  const connected = new Promise((resolve) => store.once('connect', resolve))
  t.is(await store.set('a', sess(1)), 'OK')
  t.is(await s.primary.cli('EXISTS', `${store.prefix}a`), '1', 'the write went to the primary')
  await Promise.race([connected, sleep(5000).then(() => t.fail('no connect event within 5 s'))])
  t.true(store.client.connected)
  // As in cluster mode, address names the topology (here: the sentinels, or the primary).
  const ports = [s.primary.port, ...s.sentinels.map((x) => x.port)].map(String)
  t.true(typeof store.client.address === 'string' && ports.some((p) => store.client.address.includes(p)), `address: ${store.client.address}`)
  await store.clear()
})

/** Polls roles and what the sentinels report while a failover runs; stop() gives the timeline. */
function watchFailover(from, to) {
  const tl = { lastReplicaSeenAt: 0, promotedAt: 0, switchedAt: 0, demotedAt: 0 }
  let running = true
  const loop = (async () => {
    while (running) {
      const start = Date.now()
      try {
        const [toInfo, fromInfo, reported] = await Promise.all([
          to.cli('INFO', 'replication').then(parseInfo),
          from.running ? from.cli('INFO', 'replication').then(parseInfo).catch(() => ({})) : {},
          s.reportedPrimaries(),
        ])
        const end = Date.now()
        if (toInfo.role === 'slave' && !tl.promotedAt) tl.lastReplicaSeenAt = start
        if (toInfo.role === 'master' && !tl.promotedAt) tl.promotedAt = end
        if (!tl.switchedAt && reported.length === 3 && reported.every((p) => p === to.port)) tl.switchedAt = end
        if (!tl.demotedAt && fromInfo.role === 'slave') tl.demotedAt = end
      } catch {}
      await sleep(50)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return tl
    },
  }
}

function checkErrors(t, failed) {
  const bad = unexpectedFailure(failed)
  if (bad) t.fail(`write ${bad.id} failed with ${bad.err && bad.err.code}: ${bad.err && bad.err.message}`)
  else t.pass()
}

test.serial('SENTINEL FAILOVER under load: the store follows the new primary and the ledger check holds', async (t) => {
  const prefix = uid('sfailover')
  const store = make({ prefix })
  const events = recordEvents(store)
  const from = s.primary
  const to = s.replica

  const writers = startWriters(store, { writers: 4 })
  await writers.waitAcks(500)
  const watch = watchFailover(from, to)
  const issuedAt = Date.now()
  const result = await s.failover({ timeout: 45000 })
  t.is(result.to, to.port)
  await writers.waitAcks(500)
  const ledger = await writers.stop()
  const tl = await watch.stop()
  const rel = (x) => (x ? x - issuedAt : 'never')
  t.log(`failover issued; replica seen until +${rel(tl.lastReplicaSeenAt)} ms, promoted by +${rel(tl.promotedAt)}, sentinels switched by +${rel(tl.switchedAt)}, old primary demoted by +${rel(tl.demotedAt)}; settled after ${result.ms} ms`)
  t.log('store events (ms after FAILOVER):', events.map(([e, at, code]) => `${e}@${at - issuedAt}${code ? `(${code})` : ''}`).join(' '))
  t.log(`${ledger.acked.length} writes acknowledged, ${ledger.failed.length} failed`, summarizeErrors(ledger.failed, { width: 100 }))
  t.true(tl.switchedAt > 0, 'the sentinels announced the new primary')
  t.is(ledger.pending.size, 0, 'every write settled (none hangs)')
  checkErrors(t, ledger.failed)

  const reader = make({ prefix })
  const lost = await lostWrites(reader, ledger.acked)
  const lostIds = new Set(lost.map((l) => l.id))
  const before = ledger.acked.filter((a) => a.end < tl.lastReplicaSeenAt)
  const after = ledger.acked.filter((a) => a.start > tl.switchedAt + FOLLOW_MS)
  const windowed = ledger.acked.filter((a) => lostIds.has(a.id) && !before.includes(a) && !after.includes(a))
  t.log(`${lost.length} acknowledged writes lost in all, ${windowed.length} of them inside the window Sentinel loses`)
  t.true(before.length > 0 && after.length > 0, `writes on both sides of the window (${before.length} before, ${after.length} after)`)
  t.deepEqual(before.filter((a) => lostIds.has(a.id)).map((a) => a.id), [], 'every write acknowledged before the promotion is readable')
  const lostAfter = after.filter((a) => lostIds.has(a.id))
  t.deepEqual(
    lostAfter.slice(0, 10).map((a) => `${a.id} started +${a.start - tl.switchedAt} ms after the switch`),
    [],
    `every write started ${FOLLOW_MS} ms after the sentinels switched is readable (${lostAfter.length} lost: the store kept writing to the old primary)`,
  )

  // The store now writes to the new primary.
  t.is(await store.set('probe', sess(9)), 'OK')
  t.is(await to.cli('GET', `${prefix}probe`), JSON.stringify(sess(9)), 'a write after the failover is on the new primary')
  await reader.clear()
})

test.serial('the primary is killed under load: the store follows the promoted replica, no acknowledged write lost', async (t) => {
  const prefix = uid('skill')
  const store = make({ prefix })
  const events = recordEvents(store)

  const writers = startWriters(store, { writers: 4 })
  await writers.waitAcks(500)
  const killAt = Date.now()
  const result = await s.killPrimary({ timeout: 45000 })
  t.log(`primary ${result.from} killed; sentinels promoted ${result.to} after ${result.ms} ms`)

  const { ledger } = writers
  const resumed = await waitFor(() => ledger.acked.find((a) => a.start > killAt + 100), { timeout: RESUME_BOUND_MS + 5000, interval: 50 })
  t.truthy(resumed, 'writes succeed again after the kill')
  if (resumed) t.true(resumed.end - killAt < RESUME_BOUND_MS, `writes resumed ${resumed.end - killAt} ms after the kill (bound ${RESUME_BOUND_MS} ms)`)
  await writers.waitAcks(500)
  await writers.stop()
  t.log(`${ledger.acked.length} writes acknowledged, ${ledger.failed.length} failed`, summarizeErrors(ledger.failed, { width: 100 }))
  t.log('store events (ms after the kill):', events.map(([e, at, code]) => `${e}@${at - killAt}${code ? `(${code})` : ''}`).join(' '))
  t.is(ledger.pending.size, 0, 'every write settled (none hangs)')
  checkErrors(t, ledger.failed)
  t.deepEqual(ledger.failed.filter((f) => f.end < killAt).map((f) => f.id), [], 'no write failed before the fault')
  t.true(events.some(([e]) => e === 'disconnect'), 'a disconnect event when the primary died')
  t.true(events.some(([e, at]) => e === 'connect' && at > killAt), 'a connect event once the new primary is reached')

  const reader = make({ prefix })
  const lost = await lostWrites(reader, ledger.acked)
  t.deepEqual(lost.slice(0, 20), [], `no acknowledged write lost (${lost.length} of ${ledger.acked.length} missing)`)
  t.is(await s.primary.cli('EXISTS', `${prefix}${ledger.acked[ledger.acked.length - 1].id}`), '1', 'the last writes are on the promoted replica')
  await reader.clear()
})

test.serial('sentinel and data-node passwords (password, sentinelPassword)', async (t) => {
  const secured = await startSentinel({ password: 'data-secret', sentinelPassword: 'sentinel-secret' })
  extraTopologies.push(secured)
  const base = { sentinels: secured.sentinels, name: secured.name }
  const store = make({ prefix: uid('auth'), sentinel: { ...base, password: 'data-secret', sentinelPassword: 'sentinel-secret' } })
  t.is(await store.set('a', sess(1)), 'OK')
  t.deepEqual(await store.get('a'), plain(sess(1)))
  t.deepEqual(await store.ids(), ['a'])
  t.is(await secured.primary.cli('EXISTS', `${store.prefix}a`), '1')

  const wrongData = make({ sentinel: { ...base, password: 'nope', sentinelPassword: 'sentinel-secret' }, connectTimeout: 1000, commandTimeout: 2000 })
  const err1 = await t.throwsAsync(wrongData.get('a'))
  t.is(err1.code, 'ERR_REDIS_AUTH', `wrong data-node password: ${err1.message}`)

  const wrongSentinel = make({ sentinel: { ...base, password: 'data-secret', sentinelPassword: 'nope' }, connectTimeout: 1000, commandTimeout: 2000 })
  const err2 = await t.throwsAsync(wrongSentinel.get('a'))
  t.true(['ERR_REDIS_AUTH', 'ERR_REDIS_CONNECTION'].includes(err2.code), `wrong sentinel password: ${err2.code} ${err2.message}`)
})

test.serial('an unknown master name fails operations with ERR_REDIS_CONNECTION and a disconnect event, no crash', async (t) => {
  const store = make({ sentinel: { sentinels: s.sentinels, name: 'no-such-master' }, connectTimeout: 1000, commandTimeout: 2000 })
  const disconnected = new Promise((resolve) => store.once('disconnect', resolve))
  const err = await t.throwsAsync(store.get('a'))
  t.is(err.code, 'ERR_REDIS_CONNECTION', err.message)
  t.true((await Promise.race([disconnected, sleep(5000)])) instanceof Error, 'disconnect event with the error')
})

test.serial('bad sentinel options are a TypeError with ERR_INVALID_ARG_VALUE', (t) => {
  const bad = [
    {},
    { sentinels: [], name: 'mymaster' },
    { sentinels: [{ host: '127.0.0.1', port: 26379 }] },
    { sentinels: [{ host: '127.0.0.1', port: 'x' }], name: 'mymaster' },
    { sentinels: 'not-a-list', name: 'mymaster' },
  ]
  for (const sentinel of bad) {
    const err = t.throws(() => new RedisStore({ sentinel }), { instanceOf: TypeError }, JSON.stringify(sentinel))
    if (err) t.is(err.code, 'ERR_INVALID_ARG_VALUE', `${JSON.stringify(sentinel)}: ${err.message}`)
  }
})
