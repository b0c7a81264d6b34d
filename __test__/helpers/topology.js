'use strict'
// Direct access to a topology (standalone, cluster, sentinel) for the shared suites, without
// going through the store, behind one small interface:
//   cli(...args)     one command, routed to the node that owns its key (cluster: redis-cli -c;
//                    sentinel: the current primary); resolves with redis-cli's raw output
//   keys(pattern)    KEYS on every primary, merged (array)
//   monitor()        MONITOR on every primary; stop() resolves with every command seen, each
//                    entry carrying `node` (the port)
// plus a ledger of acknowledged writes for the fault tests, and the cluster slot check, and the
// set-up the cluster and sentinel test files share: one topology per file, its stores closed after.

const { monitor, closeStore } = require('./redis')
const { keySlot } = require('../../scripts/redis-cluster')

const lines = (out) => out.split('\n').filter(Boolean)

function standaloneRedis(r) {
  return {
    kind: 'standalone',
    cli: (...args) => r.cli(...args),
    keys: async (pattern) => lines(await r.cli('KEYS', pattern)),
    monitor: async () => monitorMany([r]),
  }
}

function clusterRedis(c) {
  const primaries = async () => (await c.primaries()).map((n) => n.server)
  return {
    kind: 'cluster',
    cli: (...args) => c.cliRouted(...args),
    keys: async (pattern) => {
      const out = []
      for (const s of await primaries()) out.push(...lines(await s.cli('KEYS', pattern)))
      return out
    },
    monitor: async () => monitorMany(await primaries()),
  }
}

function sentinelRedis(topo) {
  return {
    kind: 'sentinel',
    cli: (...args) => topo.primary.cli(...args),
    keys: async (pattern) => lines(await topo.primary.cli('KEYS', pattern)),
    monitor: async () => monitorMany([topo.primary]),
  }
}

/** MONITOR on several servers at once; stop() merges the entries, tagging each with its node. */
async function monitorMany(servers) {
  const mons = await Promise.all(servers.map((s) => monitor(s)))
  return {
    async stop() {
      const all = await Promise.all(mons.map((m) => m.stop()))
      return all.flatMap((entries, i) => entries.map((e) => ({ ...e, node: servers[i].port })))
    },
  }
}

// Commands whose arguments are all keys (after the command name).
const ALL_KEYS = new Set(['MGET', 'DEL', 'UNLINK', 'EXISTS', 'TOUCH'])
// Commands with one key, first argument.
const ONE_KEY = new Set(['GET', 'SET', 'EXPIRE', 'PEXPIRE', 'TTL', 'GETEX', 'SETEX', 'PSETEX', 'TYPE'])

/** The keys a MONITOR entry carries (only for the commands the store sends). */
function keysOf(entry) {
  if (ALL_KEYS.has(entry.cmd)) return entry.args
  if (ONE_KEY.has(entry.cmd)) return entry.args.slice(0, 1)
  if (entry.cmd === 'MSET') return entry.args.filter((_, i) => i % 2 === 0)
  return []
}

/** MONITOR entries whose keys hash to more than one slot: [{ line, slots }]. */
function crossSlotCommands(entries) {
  const bad = []
  for (const e of entries) {
    const keys = keysOf(e)
    if (keys.length < 2) continue
    const slots = new Set(keys.map(keySlot))
    if (slots.size > 1) bad.push({ node: e.node, cmd: e.cmd, keys: keys.length, slots: [...slots].slice(0, 5), line: e.line.slice(0, 200) })
  }
  return bad
}

/**
 * Writers that keep calling store.set with fresh ids, recording every outcome:
 *   const w = startWriters(store, { writers: 4, prefixForId })
 *   … faults …
 *   const ledger = await w.stop()   // waits for every op in flight to settle
 *   ledger.acked: [{ id, value, start, end }], ledger.failed: [{ id, start, end, err }]
 * A stalled operation (settled neither way) is reported in ledger.pending after stop()'s timeout.
 */
function startWriters(store, { writers = 4, label = 'w', pauseMs = 2, sessionOf } = {}) {
  const ledger = { acked: [], failed: [], pending: new Map() }
  let running = true
  let seq = 0
  const loops = []
  const makeSess = sessionOf || ((id, n) => ({ cookie: { maxAge: 3600000 }, id, n }))
  for (let w = 0; w < writers; w++) {
    loops.push(
      (async () => {
        while (running) {
          const n = seq++
          const id = `${label}${w}-${n}`
          const sess = makeSess(id, n)
          const start = Date.now()
          ledger.pending.set(id, start)
          try {
            const res = await store.set(id, sess)
            ledger.acked.push({ id, value: JSON.stringify(sess), start, end: Date.now(), res })
          } catch (err) {
            ledger.failed.push({ id, start, end: Date.now(), err })
          }
          ledger.pending.delete(id)
          if (pauseMs) await new Promise((resolve) => setTimeout(resolve, pauseMs))
        }
      })(),
    )
  }
  return {
    ledger,
    /** Resolves once at least `count` more writes have been acknowledged (or rejects after timeout). */
    async waitAcks(count, timeout = 20000) {
      const target = ledger.acked.length + count
      const deadline = Date.now() + timeout
      while (ledger.acked.length < target) {
        if (Date.now() > deadline) throw new Error(`only ${ledger.acked.length - target + count} of ${count} writes acknowledged in ${timeout} ms`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    async stop(timeout = 30000) {
      running = false
      let timer
      await Promise.race([Promise.all(loops), new Promise((resolve) => (timer = setTimeout(resolve, timeout)))])
      clearTimeout(timer)
      return ledger
    },
  }
}

/**
 * Reads back every acknowledged write of a ledger through `store` (a fresh one is best) and
 * returns the ids whose value is missing or different: [{ id, got, ack }].
 */
async function lostWrites(store, acked, { parallel = 200 } = {}) {
  const lost = []
  for (let i = 0; i < acked.length; i += parallel) {
    const slice = acked.slice(i, i + parallel)
    const got = await Promise.all(slice.map((a) => store.get(a.id).then((v) => v, (err) => err)))
    slice.forEach((a, j) => {
      const g = got[j]
      if (g instanceof Error || g === null || JSON.stringify(g) !== a.value) {
        lost.push({ id: a.id, got: g instanceof Error ? `${g.code}: ${g.message}` : g, ack: a.end })
      }
    })
  }
  return lost
}

/**
 * One topology shared by a test file: `start()` runs before the tests (and may keep what it
 * resolves with in a variable of its own), and after them the stores pushed on the returned array
 * are closed, then each of `alsoClose` (topologies the tests started besides), then the topology.
 */
function useTopology(test, start, { alsoClose = [] } = {}) {
  const stores = []
  let topology
  test.before(async () => {
    topology = await start()
  })
  test.after.always(async () => {
    await Promise.all(stores.map(closeStore))
    await Promise.all(alsoClose.map((x) => x.close()))
    if (topology) await topology.close()
  })
  return stores
}

/** The error codes a write may fail with during a fault (a failover, a killed primary). */
const FAULT_ERROR_CODES = ['ERR_REDIS_CONNECTION', 'ERR_REDIS_TIMEOUT', 'ERR_REDIS_SERVER', 'ERR_REDIS_CLOSED']

/** The first failed write of a ledger whose error is not an Error with a FAULT_ERROR_CODES code. */
function unexpectedFailure(failed) {
  return failed.find((f) => !(f.err instanceof Error) || !FAULT_ERROR_CODES.includes(f.err.code))
}

/** Failed writes counted by `code: message` (the message cut to `width` characters), for t.log. */
function summarizeErrors(failed, { width = 120 } = {}) {
  const out = {}
  for (const f of failed) {
    const k = `${f.err && f.err.code}: ${String(f.err && f.err.message).slice(0, width)}`
    out[k] = (out[k] || 0) + 1
  }
  return out
}

/** Records a store's disconnect and connect events as [name, time, code?] in the returned array. */
function recordEvents(store) {
  const events = []
  store.on('disconnect', (err) => events.push(['disconnect', Date.now(), err && err.code]))
  store.on('connect', () => events.push(['connect', Date.now()]))
  return events
}

module.exports = {
  useTopology,
  FAULT_ERROR_CODES,
  unexpectedFailure,
  summarizeErrors,
  recordEvents,
  standaloneRedis,
  clusterRedis,
  sentinelRedis,
  monitorMany,
  keysOf,
  crossSlotCommands,
  startWriters,
  lostWrites,
  keySlot,
}
