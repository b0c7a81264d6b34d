'use strict'
// Real faults on a 3-primary + 3-replica cluster (scripts/redis-cluster.js), under load:
//   1. failover: while writers run (a ledger records every acknowledged and every failed write),
//      a primary is SIGKILLed; its replica takes over; writes to its slots resume within a
//      bound; every acknowledged write is readable afterwards; every failed write was reported
//      to its caller as an error with a code (none hangs);
//   2. slot migration (`redis-cli --cluster reshard`, MOVED/ASK) while writers, readers and bulk
//      operations run: no acknowledged write lost, no operation fails.
// The tests run serially, in this order, on one cluster.

const test = require('ava')
const { startCluster, keySlot } = require('../scripts/redis-cluster')
const { named: RedisStore } = require('./helpers/forms')
const { uid, sleep } = require('./helpers/redis')
const { startWriters, lostWrites, useTopology, unexpectedFailure, summarizeErrors, recordEvents } = require('./helpers/topology')

const RESUME_BOUND_MS = 15000

let c
const stores = useTopology(test, async () => (c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })))

function make(opts = {}) {
  const store = new RedisStore({ cluster: c.seeds, commandTimeout: 3000, ...opts })
  stores.push(store)
  return store
}

/** Slot ranges served by a primary, from its own CLUSTER NODES line. */
async function slotsOf(port) {
  const me = (await c.view(port)).find((v) => v.myself)
  return me.slots.filter((x) => !x.startsWith('[')).map((r) => r.split('-').map(Number)).map(([a, b = a]) => [a, b])
}

/** redis-cli --cluster reshard, once the nodes agree (redis-cli refuses otherwise). */
async function reshard(from, to, slots) {
  for (let attempt = 0; ; attempt++) {
    await c.waitStable({ timeout: 30000 })
    try {
      return await c.clusterCli('reshard', '--cluster-from', from, '--cluster-to', to, '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', '5')
    } catch (err) {
      if (attempt >= 20 || !/fix your cluster problems/.test(err.message)) throw err
      await sleep(250)
    }
  }
}

const inRanges = (ranges, slot) => ranges.some(([a, b]) => slot >= a && slot <= b)

test.serial('failover under load: the replica takes over, writes resume in bounded time, no acknowledged write is lost', async (t) => {
  const prefix = uid('failover')
  const store = make({ prefix })
  const events = recordEvents(store)

  const victim = (await c.primaries())[0]
  const victimSlots = await slotsOf(victim.port)
  const onVictim = (id) => inRanges(victimSlots, keySlot(prefix + id))

  const writers = startWriters(store, { writers: 6 })
  await writers.waitAcks(1000)

  const killAt = Date.now()
  await c.kill(victim.port)
  const newPrimary = await c.waitFailover(victim.port, { timeout: 30000 })
  const failoverMs = Date.now() - killAt
  t.log(`primary ${victim.port} killed; replica ${newPrimary} took over after ${failoverMs} ms`)

  // Writes to the failed primary's slots resume: an acknowledged write, started after the kill,
  // of a key in those slots.
  const { ledger } = writers
  let resumedAt
  const deadline = killAt + RESUME_BOUND_MS + 5000
  while (!resumedAt && Date.now() < deadline) {
    const hit = ledger.acked.find((a) => a.start > killAt && onVictim(a.id))
    if (hit) resumedAt = hit.end
    else await sleep(50)
  }
  t.truthy(resumedAt, 'writes to the failed primary\'s slots succeed again')
  if (resumedAt) t.log(`writes to its slots resumed ${resumedAt - killAt} ms after the kill`)
  t.true(resumedAt - killAt < RESUME_BOUND_MS, `writes resumed within ${RESUME_BOUND_MS} ms of the kill (took ${resumedAt - killAt} ms)`)

  await writers.waitAcks(1000)
  await writers.stop()
  t.is(ledger.pending.size, 0, 'every write settled (none hangs)')
  t.log(`${ledger.acked.length} writes acknowledged, ${ledger.failed.length} failed`, summarizeErrors(ledger.failed))
  t.log('store events (ms after the kill):', events.map(([e, at, code]) => `${e}@${at - killAt}${code ? `(${code})` : ''}`).join(' '))

  // Failed writes were reported as errors with a code, only around the fault.
  const bad = unexpectedFailure(ledger.failed)
  if (bad) t.fail(`write ${bad.id} failed with ${bad.err && bad.err.code}: ${bad.err && bad.err.message}`)
  const early = ledger.failed.filter((f) => f.end < killAt)
  t.deepEqual(early.map((f) => f.id), [], 'no write failed before the fault')
  const late = ledger.failed.filter((f) => f.start > killAt + RESUME_BOUND_MS)
  t.deepEqual(late.map((f) => `${f.id}: ${f.err.code}`), [], `no write failed more than ${RESUME_BOUND_MS} ms after the kill`)
  const healthy = ledger.failed.filter((f) => !onVictim(f.id))
  t.log(`${healthy.length} failed writes were to the healthy primaries' slots`)

  // The ledger: every acknowledged write is readable, through a fresh store.
  const reader = make({ prefix })
  const lost = await lostWrites(reader, ledger.acked)
  t.deepEqual(lost.slice(0, 20), [], `no acknowledged write lost (${lost.length} of ${ledger.acked.length} missing)`)
  const ids = new Set(await reader.ids())
  t.true(ledger.acked.every((a) => ids.has(a.id)), 'ids() lists every acknowledged write')

  // Bring the old primary back; it rejoins as a replica of the new one.
  await c.start(victim.port)
  await c.waitStable({ timeout: 30000 })
  t.is(c.node(victim.port).role, 'replica', 'the restarted node rejoined as a replica')
  t.is(c.node(victim.port).primaryPort, newPrimary)
  t.is(await reader.clear(), ids.size)
})

test.serial('slot migration under load (redis-cli --cluster reshard): no acknowledged write lost, operations keep working', async (t) => {
  const prefix = uid('reshard')
  const store = make({ prefix })
  const [a, b, d] = await c.primaries()

  // Data in the slots about to move, written before the migration.
  const before = startWriters(store, { writers: 4, label: 'pre' })
  await before.waitAcks(3000)
  const preLedger = await before.stop()

  const writers = startWriters(store, { writers: 4 })
  // Readers of the keys written before, and bulk operations, while slots move.
  const readFailures = []
  const bulkFailures = []
  let reading = true
  let reads = 0
  let bulkRuns = 0
  const readers = [0, 1].map(async (r) => {
    let i = r
    while (reading) {
      const entry = preLedger.acked[i % preLedger.acked.length]
      i += 7
      try {
        const got = await store.get(entry.id)
        reads++
        if (JSON.stringify(got) !== entry.value) readFailures.push(`${entry.id}: read ${JSON.stringify(got)}`)
      } catch (err) {
        readFailures.push(`${entry.id}: ${err.code} ${err.message}`)
      }
    }
  })
  const bulk = (async () => {
    while (reading) {
      try {
        const [n, all] = await Promise.all([store.length(), store.all()])
        bulkRuns++
        if (n < preLedger.acked.length) bulkFailures.push(`length() gave ${n} < ${preLedger.acked.length} while migrating`)
        if (all.length < preLedger.acked.length) bulkFailures.push(`all() gave ${all.length} sessions while migrating`)
      } catch (err) {
        bulkFailures.push(`${err.code}: ${err.message}`)
      }
      await sleep(100)
    }
  })()

  await writers.waitAcks(500)
  const started = Date.now()
  await reshard(a.id, b.id, 500)
  await reshard(b.id, d.id, 500)
  t.log(`two reshards of 500 slots took ${Date.now() - started} ms`)
  await c.waitStable({ timeout: 30000 })
  await writers.waitAcks(500)
  reading = false
  const ledger = await writers.stop()
  await Promise.all([...readers, bulk])

  t.log(`${ledger.acked.length} writes acknowledged during the migration, ${ledger.failed.length} failed; ${reads} reads; ${bulkRuns} length()+all() runs`)
  t.is(ledger.pending.size, 0, 'every write settled')
  t.deepEqual(ledger.failed.slice(0, 10).map((f) => `${f.id}: ${f.err.code} ${f.err.message}`), [], 'no write failed while slots moved')
  t.deepEqual(readFailures.slice(0, 10), [], 'every read gave the acknowledged value while slots moved')
  t.deepEqual(bulkFailures.slice(0, 10), [], 'length() and all() kept working while slots moved')

  const moved = new Set()
  for (const range of await slotsOf(d.port)) for (let s = range[0]; s <= range[1]; s++) moved.add(s)
  const inMoved = [...preLedger.acked, ...ledger.acked].filter((x) => moved.has(keySlot(prefix + x.id)))
  t.log(`${inMoved.length} acknowledged writes are in slots that ended on ${d.port}`)

  const reader = make({ prefix })
  const all = [...preLedger.acked, ...ledger.acked]
  const lost = await lostWrites(reader, all)
  t.deepEqual(lost.slice(0, 20), [], `no acknowledged write lost (${lost.length} of ${all.length} missing)`)
  // Failed writes may or may not have been applied; acknowledged ones all are.
  const n = await reader.length()
  t.true(n >= all.length, `length() ${n} counts every acknowledged write (${all.length})`)
  t.is(await reader.clear(), n)
})

// SPEC section 5: the store never keeps the process alive by itself. After a failover under
// load and store.close(), a process with nothing else to do exits at once.
const CHILD = `
const { RedisStore } = require(process.argv[1])
const store = new RedisStore({ cluster: JSON.parse(process.argv[2]), commandTimeout: 3000, prefix: process.argv[3] })
let running = true
let acked = 0
const loops = []
for (let w = 0; w < 4; w++) {
  loops.push((async () => {
    for (let i = 0; running; i++) {
      await store.set('x' + w + '-' + i, { n: i }).then(() => acked++, () => {})
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })())
}
const iv = setInterval(() => {
  if (acked >= 500) {
    clearInterval(iv)
    process.stdout.write('ready\\n')
  }
}, 20)
process.stdin.once('data', async () => {
  process.stdin.destroy()
  running = false
  await Promise.all(loops)
  await store.close()
  process.stdout.write('closed ' + acked + '\\n')
})
`

test.serial('after a failover under load, store.close() lets the process exit at once', async (t) => {
  const { spawn } = require('node:child_process')
  const path = require('node:path')
  const prefix = uid('exit')
  const child = spawn(process.execPath, ['-e', CHILD, path.join(__dirname, '..'), JSON.stringify(c.seeds), prefix], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })))
  let out = ''
  const waitLine = (re, ms) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not print ${re} within ${ms} ms: ${out}`)), ms)
      const check = () => {
        if (re.test(out)) {
          clearTimeout(timer)
          child.stdout.off('data', onData)
          resolve(Date.now())
        }
      }
      const onData = (d) => {
        out += d
        check()
      }
      child.stdout.on('data', onData)
      check()
    })
  try {
    await waitLine(/ready/, 20000)
    const victim = (await c.primaries())[0]
    await c.kill(victim.port)
    await c.waitFailover(victim.port, { timeout: 30000 })
    await sleep(1500)
    child.stdin.write('stop\n')
    const closedAt = await waitLine(/closed/, 20000)
    let timer
    const result = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10000, null)))])
    clearTimeout(timer)
    t.truthy(result, 'the child exited within 10 s of store.close()')
    if (result) {
      t.is(result.code, 0)
      t.true(result.at - closedAt < 2000, `exit ${result.at - closedAt} ms after store.close() resolved`)
    }
    await c.start(victim.port)
    await c.waitStable({ timeout: 30000 })
  } finally {
    child.kill('SIGKILL')
  }
})
