'use strict'
// What a run measures, by mode, and the command-line flags that adjust it.
//   npm run bench                 full run (25–30 min on 2 cores)
//   npm run bench -- --quick      under 2 minutes (also BENCH_QUICK=1)
//   node benchmark/run.js --smoke CI's check that the harness works (< 60 s)
// Flags: --rounds N (every phase)  --duration MS (timed window per operation)  --only ops,bulk,http,ceiling
//        --stores rs,cr10-node-redis,cr10-ioredis,cr3  --out DIR

const os = require('node:os')
const path = require('node:path')
const { STORES, STORE_NAMES } = require('./stores')

const OPS = ['set', 'get', 'touch', 'destroy']
const BULK_OPS = ['length', 'ids', 'all', 'clear']
const SIZES = [200, 2000, 20000]

const MODES = {
  full: {
    // A round's ratio of one cell moves by ±15–30% on a 2-vCPU VM; the median of five rounds
    // settles cells that three left on either side of 1.0×.
    rounds: 5,
    placements: ['same', 'other'],
    sizes: SIZES,
    inflights: [1, 16, 256],
    // Every child first runs each operation on 200 B sessions at 64 in flight, twice over
    // (preWarmOps in all, at most preWarmMs per pass and operation), then each op for warmMs.
    preWarmOps: 50000,
    preWarmMs: 1000,
    warmMs: 200,
    durMs: 500,
    // Keys per session size that set/get/touch cycle over and destroy deletes (~150 MB in Redis).
    pool: { 200: 60000, 2000: 30000, 20000: 4000 },
    // A cell measured while other processes used more than this many cores' worth of CPU in a
    // timed window is run again, up to `retries` times, after waiting up to quietWaitMs for the
    // machine to calm down, as long as the run's retryBudgetMs lasts; the least disturbed run
    // is kept.
    maxForeign: 0.25,
    retries: 2,
    quietWaitMs: 30000,
    retryBudgetMs: 300000,
    bulk: { counts: [1000, 200000], rounds: 3, reps: { 1000: 5, 200000: 1 } },
    // Every store's server stays up through the part; its windows are interleaved (http.js).
    http: { rounds: 6, sessions: 10000, connections: 32, warmS: 3, durationS: 2 },
    ceilingRequests: 2000000,
  },
  quick: {
    rounds: 1,
    placements: ['same', 'other'],
    // 20 KB sessions only in the full run: JSON dominates there, and the time goes to longer windows.
    sizes: [200, 2000],
    inflights: [1, 16, 256],
    preWarmOps: 20000,
    preWarmMs: 300,
    warmMs: 30,
    durMs: 120,
    pool: { 200: 20000, 2000: 20000 },
    maxForeign: 0.25,
    retries: 1,
    quietWaitMs: 2000,
    retryBudgetMs: 15000,
    bulk: { counts: [1000, 20000], rounds: 1, reps: { 1000: 3, 20000: 1 } },
    http: { rounds: 1, sessions: 1000, connections: 32, warmS: 1, durationS: 1 },
    ceilingRequests: 200000,
  },
  smoke: {
    rounds: 1,
    placements: ['same'],
    sizes: SIZES,
    inflights: [1, 16],
    preWarmOps: 400,
    preWarmMs: 500,
    warmMs: 1000,
    warmOps: 100,
    durMs: 2000,
    maxOps: 300,
    pool: { 200: 1000, 2000: 1000, 20000: 1000 },
    maxForeign: 0.25,
    retries: 0,
    quietWaitMs: 0,
    retryBudgetMs: 0,
    bulk: { counts: [1000], rounds: 1, reps: { 1000: 1 } },
    http: { rounds: 1, sessions: 200, connections: 8, warmS: 0, durationS: 1 },
    ceilingRequests: 20000,
  },
}

function parseArgs(argv = process.argv.slice(2), env = process.env) {
  const flags = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`)
    const [key, inline] = arg.slice(2).split('=')
    if (['quick', 'smoke'].includes(key)) flags[key] = true
    else flags[key] = inline !== undefined ? inline : argv[++i]
  }
  const mode = flags.smoke ? 'smoke' : flags.quick || /^(1|true|yes)$/i.test(env.BENCH_QUICK || '') ? 'quick' : 'full'
  const config = { mode, ...structuredClone(MODES[mode]), ops: OPS, bulkOps: BULK_OPS }
  if (flags.rounds) {
    config.rounds = config.bulk.rounds = config.http.rounds = Math.ceil(positive('rounds', flags.rounds))
  }
  if (flags.duration) config.durMs = positive('duration', flags.duration)
  config.only = flags.only ? flags.only.split(',') : ['ceiling', 'ops', 'bulk', 'http']
  for (const part of config.only) {
    if (!['ceiling', 'ops', 'bulk', 'http'].includes(part)) throw new Error(`--only takes ceiling,ops,bulk,http; got ${part}`)
  }
  const defaults = STORE_NAMES.filter((s) => !STORES[s].onRequest && !STORES[s].httpOnly && !STORES[s].bulkOnly)
  const chosen = flags.stores ? flags.stores.split(',') : defaults
  for (const s of chosen) if (!STORE_NAMES.includes(s)) throw new Error(`--stores: unknown store ${s}`)
  config.stores = chosen.filter((s) => !STORES[s].httpOnly && !STORES[s].bulkOnly)
  config.bulkStores = flags.stores ? chosen.filter((s) => !STORES[s].httpOnly) : [...defaults, ...STORE_NAMES.filter((s) => STORES[s].bulkOnly && !STORES[s].onRequest)]
  config.httpStores = flags.stores ? chosen.filter((s) => !STORES[s].bulkOnly) : [...defaults, ...STORE_NAMES.filter((s) => STORES[s].httpOnly && !STORES[s].onRequest)]
  const defaultOut = mode === 'smoke' ? path.join(os.tmpdir(), 'connect-redis-rs-bench-smoke') : path.join(__dirname, 'results')
  config.out = path.resolve(flags.out || defaultOut)
  config.command = rerunCommand(argv, env)
  // With one core there is no "other core": everything shares it.
  if (os.cpus().length < 2) config.placements = ['same']
  return config
}

function positive(name, value) {
  const n = Number(value)
  if (!(n > 0)) throw new Error(`--${name} takes a positive number; got ${value}`)
  return n
}

function rerunCommand(argv, env) {
  const args = [...argv]
  if (/^(1|true|yes)$/i.test(env.BENCH_QUICK || '') && !args.includes('--quick')) args.unshift('--quick')
  if (args.includes('--smoke')) return `node benchmark/run.js ${args.join(' ')}`
  return args.length ? `npm run bench -- ${args.join(' ')}` : 'npm run bench'
}

/** The value after `name` on a small tool's command line (`--sessions 2000`), or `fallback`. */
function flag(args, name, fallback) {
  const at = args.indexOf(name)
  return at === -1 ? fallback : args[at + 1]
}

module.exports = { parseArgs, flag, MODES, OPS, BULK_OPS }
