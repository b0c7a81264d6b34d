'use strict'
// Where the HTTP part's server spends its main thread, per store: the same server child as the
// benchmark's HTTP part (http.js; Redis beside it on core 0, autocannon on core 1), warmed on
// both routes, then a V8 CPU profile of its main thread (cpu-profile.js) while autocannon loads
// one route, summed by package, module and file, in µs per request.
//   node benchmark/http-profile.js [--stores rs,cr10-node-redis,free-next-turn,free] [--route /read] [--seconds 5]

const path = require('node:path')
const { BenchRedis } = require('./redis')
const { runChild } = require('./proc')
const { MODES, flag } = require('./config')
const { STORES } = require('./stores')
const { ROUTE_OPS } = require('./http')

const HTTP = path.join(__dirname, 'http.js')
const SHOWN = 24

async function profileStore(redis, store, { route, seconds }) {
  const { sessions: n, connections, warmS } = MODES.full.http
  let rows = []
  const load = (port, schedule, warm, durationS) =>
    runChild(HTTP, { role: 'load', servers: [{ store, port }], schedule, n, connections, warmS: warm, durationS }, { cpu: 1, timeoutMs: 120000 })
  let port
  const onAsk = async (what, data) => {
    if (what === 'serve') {
      port = data.port
      await load(port, [], warmS, 1)
    } else if (what === 'profile') {
      rows = await load(port, [{ round: 1, store, route }], 0, seconds)
    }
  }
  const result = await runChild(HTTP, { role: 'server', store, redisPort: redis.port, n, size: 200, profile: true }, { cpu: 0, onAsk, timeoutMs: 300000 })
  const [row] = rows
  if (!row || row.missing || row.non2xx || row.errors) throw new Error(`${store}: the profiled load failed (${JSON.stringify(row)})`)
  return { store, requests: row.total, reqPerSec: row.reqPerSec, ...result.profile }
}

async function main() {
  const args = process.argv.slice(2)
  const stores = flag(args, '--stores', 'rs,cr10-node-redis,free-next-turn,free').split(',')
  const route = flag(args, '--route', '/read')
  const seconds = Number(flag(args, '--seconds', 5))
  for (const s of stores) if (!STORES[s] || STORES[s].bulkOnly) throw new Error(`--stores: ${s} is not a store the HTTP part runs`)
  if (!ROUTE_OPS[route]) throw new Error(`--route takes one of ${Object.keys(ROUTE_OPS).join(', ')}; got ${route}`)
  if (!(seconds >= 1)) throw new Error(`--seconds takes a number of seconds, at least 1; got ${flag(args, '--seconds')}`)
  const redis = await BenchRedis.start()
  const profiles = []
  try {
    redis.pinTo(0)
    for (const store of stores) {
      await redis.flush()
      profiles.push(await profileStore(redis, store, { route, seconds }))
      console.error(`${store}: ${Math.round(profiles.at(-1).reqPerSec)} req/s`)
    }
  } finally {
    await redis.close()
  }
  const perRequest = (p, us) => us / p.requests
  const ranked = new Map()
  for (const p of profiles) for (const [area, us] of Object.entries(p.areas)) ranked.set(area, Math.max(ranked.get(area) || 0, perRequest(p, us)))
  const areas = [...ranked].sort((a, b) => b[1] - a[1]).slice(0, SHOWN).map(([area]) => area)
  const cell = (p, us) => `${perRequest(p, us).toFixed(1)} (${((100 * us) / p.totalUs).toFixed(1)}%)`
  console.log(`GET ${route} (${ROUTE_OPS[route].join(' + ')}), ${seconds} s of autocannon per store; main-thread µs per request (share of the profile)\n`)
  console.log(`| where | ${profiles.map((p) => STORES[p.store].short).join(' | ')} |`)
  console.log(`|---|${profiles.map(() => '---|').join('')}`)
  console.log(`| req/s | ${profiles.map((p) => Math.round(p.reqPerSec)).join(' | ')} |`)
  console.log(`| all of it | ${profiles.map((p) => perRequest(p, p.totalUs).toFixed(1)).join(' | ')} |`)
  for (const area of areas) console.log(`| ${area} | ${profiles.map((p) => cell(p, p.areas[area] || 0)).join(' | ')} |`)
  const rest = (p) => p.totalUs - areas.reduce((sum, a) => sum + (p.areas[a] || 0), 0)
  console.log(`| the rest | ${profiles.map((p) => cell(p, rest(p))).join(' | ')} |`)
}

main().catch((err) => {
  console.error(err.stack || err.message)
  process.exit(1)
})
