'use strict'
// all()'s longest event-loop stall over N sessions with the Node process pinned to one core (as
// `npm run bench` runs it) and free to use every core (as an app is usually deployed), per store
// and for the parse-only floor (benchmark/parse-floor.js), Redis on the last core either way.
// The stall is V8's scavenges of the sessions being returned; with a second core V8 scavenges
// on helper threads in parallel, and the store's background thread runs beside the event loop.
// Each run is a fresh child (benchmark/bulk.js); runs interleave the stores and placements.
//   node benchmark/stall.js [runs] [--sessions 200000] [--stores rs,parse-floor,cr10-ioredis,cr3]

const os = require('node:os')
const path = require('node:path')
const { BenchRedis } = require('./redis')
const { runChild } = require('./proc')
const { median } = require('./stats')
const { flag } = require('./config')

const PLACEMENTS = { pinned: 0, free: undefined }

async function main() {
  const args = process.argv.slice(2)
  const runs = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) || 3)
  const n = Number(flag(args, '--sessions', 200000))
  const stores = flag(args, '--stores', 'rs,parse-floor,cr10-ioredis,cr3').split(',')
  if (os.cpus().length < 2) throw new Error('benchmark/stall.js compares one core with several: it needs at least 2 cores')
  const redis = await BenchRedis.start()
  try {
    redis.pinTo(os.cpus().length - 1)
    await redis.fill('bulk', 0, n, 200)
    const onAsk = (what) => (what === 'slowest' ? null : what === 'dbsize' ? redis.dbsize() : undefined)
    const stalls = {}
    for (let run = 0; run < runs; run++) {
      for (const [placement, cpu] of Object.entries(PLACEMENTS)) {
        for (const store of stores) {
          const job = { store, port: redis.port, n, reps: 1, ops: ['all'] }
          const [r] = (await runChild(path.join(__dirname, 'bulk.js'), job, { cpu, onAsk, timeoutMs: 300000 })).results
          if (r.error) throw new Error(`${store} all(): ${r.error}`)
          ;(stalls[`${store} ${placement}`] ||= []).push(r)
          console.error(`run ${run + 1} ${placement} ${store}: ${r.ms.toFixed(0)} ms, stall ${r.stallMs.toFixed(1)} ms`)
        }
      }
    }
    console.log(`all() over ${n.toLocaleString('en-US')} sessions of 200 B, ${runs} run${runs === 1 ? '' : 's'} each; Redis pinned to core ${os.cpus().length - 1}`)
    console.log('\n| store | Node | longest stall: median (range) | time: median |\n|---|---|---|---|')
    for (const store of stores) {
      for (const placement of Object.keys(PLACEMENTS)) {
        const rs = stalls[`${store} ${placement}`]
        const s = rs.map((r) => r.stallMs)
        const where = placement === 'pinned' ? 'pinned to core 0' : 'free'
        console.log(`| ${store} | ${where} | ${median(s).toFixed(1)} ms (${Math.min(...s).toFixed(1)}–${Math.max(...s).toFixed(1)}) | ${median(rs.map((r) => r.ms)).toFixed(0)} ms |`)
      }
    }
  } finally {
    await redis.close()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
