'use strict'
// Child process: one store's bulk operations (length, ids, all, clear) over the `n` sessions the
// parent stored. For each: wall time, main-thread busy time, the longest event-loop stall
// (monitorEventLoopDelay, 1 ms resolution) and, asked of the parent, the slowest Redis command
// (SLOWLOG with slowlog-log-slower-than 0, reset before each run).

const { performance, monitorEventLoopDelay } = require('node:perf_hooks')
const { childMain, runChild } = require('./proc')
const { openStore } = require('./stores')
const { median, maxOf } = require('./stats')

const EXPECT = {
  length: (value, n) => value === n,
  ids: (value, n) => Array.isArray(value) && value.length === n && new Set(value).size === n,
  all: (value, n) => Array.isArray(value) && value.length === n && value.every((s) => s && s.cookie && typeof s.id === 'string'),
  clear: () => true,
}

function call(store, op) {
  return new Promise((resolve, reject) => store[op]((err, value) => (err ? reject(err) : resolve(value))))
}

async function once(store, op, n, ask) {
  if (typeof global.gc === 'function') global.gc()
  await ask('slowlog-reset')
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const elu0 = performance.eventLoopUtilization()
  const t0 = performance.now()
  const value = await call(store, op)
  const ms = performance.now() - t0
  const elu = performance.eventLoopUtilization(elu0)
  delay.disable()
  const slowest = await ask('slowest')
  if (!EXPECT[op](value, n)) {
    const shown = Array.isArray(value) ? `an array of ${value.length}` : JSON.stringify(value)
    throw Object.assign(new Error(`${op}() over ${n} sessions gave ${shown}`), { wrongResult: true })
  }
  if (op === 'clear') {
    const left = await ask('dbsize')
    if (left !== 0) throw Object.assign(new Error(`clear() over ${n} sessions left ${left} keys`), { wrongResult: true })
  }
  return { ms, busyMs: elu.active, stallMs: delay.max / 1e6, slowest }
}

async function main(job, ask) {
  const { store: name, port, n, reps } = job
  const { store, close } = await openStore(name, { port })
  const results = []
  for (const op of job.ops) {
    if (typeof store[op] !== 'function') {
      results.push({ op, unsupported: true })
      continue
    }
    const runs = []
    try {
      for (let r = 0; r < (op === 'clear' ? 1 : reps); r++) runs.push(await once(store, op, n, ask))
    } catch (err) {
      // The store's own error (a limit it has) is a result to report; a wrong answer is not.
      if (err.wrongResult) throw err
      results.push({ op, error: String(err.message || err).slice(0, 200) })
      continue
    }
    const worst = runs.reduce((a, b) => ((b.slowest && b.slowest.us) > ((a && a.us) || -1) ? b.slowest : a), null)
    results.push({
      op,
      runs: runs.length,
      ms: median(runs.map((x) => x.ms)),
      busyMs: median(runs.map((x) => x.busyMs)),
      stallMs: Math.max(...runs.map((x) => x.stallMs)),
      slowestUs: worst ? worst.us : null,
      slowestCommand: worst ? worst.command : null,
      slowestKindMedianUs: worst ? worst.kindMedianUs : null,
      slowestScanUs: maxOf(runs.map((x) => x.slowest && x.slowest.scanUs)),
    })
  }
  await close()
  return { results }
}

// ---- parent side -------------------------------------------------------------------------

/**
 * For each round, count and store (rotating): the parent empties Redis, stores `n` sessions of
 * 200 B, and a fresh child runs the bulk operations with Redis on `redisCpu`. Rows per op.
 */
async function runBulk(redis, config, { log, fail, nodeCpu, redisCpu }) {
  const rows = []
  const stores = config.bulkStores || config.stores
  redis.pinTo(redisCpu)
  await redis.slowlogAll()
  const onAsk = (what) => (what === 'slowlog-reset' ? redis.slowlogReset() : what === 'slowest' ? redis.slowest() : redis.dbsize())
  let turn = 0
  try {
    for (let round = 1; round <= config.bulk.rounds; round++) {
      for (const n of config.bulk.counts) {
        turn++
        const line = []
        for (const store of stores.map((_, k) => stores[(k + turn) % stores.length])) {
          await redis.flush()
          await redis.fill('bulk', 0, n, 200)
          const job = { store, port: redis.port, n, reps: config.bulk.reps[n] || 1, ops: config.bulkOps }
          try {
            const res = await runChild(__filename, job, { cpu: nodeCpu, onAsk, timeoutMs: 300000 })
            for (const r of res.results) rows.push({ round, n, store, ...r })
            line.push(`${store} ${res.results.map((r) => `${r.op} ${r.unsupported ? 'n/a' : r.error ? 'error' : `${r.ms.toFixed(1)}ms`}`).join(' ')}`)
            for (const r of res.results) if (r.error) log(`store error: ${store} ${r.op}() over ${n} sessions: ${r.error}`)
          } catch (err) {
            fail(`bulk ${n} sessions ${store}: ${err.message}`)
          }
        }
        log(`[bulk r${round} ${n} sessions] ${line.join(' | ')}`)
      }
    }
  } finally {
    await redis.slowlogOff()
    await redis.flush()
  }
  return rows
}

if (require.main === module) childMain(main)

module.exports = { runBulk }
