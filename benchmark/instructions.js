'use strict'
// User-space CPU instructions per operation, per store, counted by valgrind's callgrind: a
// measure of how much work the process does per operation that, unlike a timing, does not move
// with what else the machine (or its host) runs. Each store runs in its own child under
// callgrind; instrumentation is switched on (callgrind_control) only around N operations (256
// in flight unless --inflight says otherwise), after a warm-up. Kernel time (the socket reads and
// writes) is not counted.
//   node benchmark/instructions.js [ops] [--stores rs,cr10-node-redis] [--inflight 256] [--bytes 200]
//     [--ops get,set,touch,destroy]
// (needs valgrind)

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')
const { BenchRedis } = require('./redis')
const { drive } = require('./ops')
const { makeSession } = require('./sessions')

const OPS = ['get', 'set', 'touch', 'destroy']
const WARM_OPS = 20000

async function child(name, port, op, ops, inflight, bytes) {
  const { openStore } = require('./stores')
  const { store, close } = await openStore(name, { port })
  const sess = makeSession(bytes)
  const sid = (i) => `k${i % 1000}`
  const run = {
    get: (i, cb) => store.get(sid(i), cb),
    set: (i, cb) => store.set(sid(i), sess, cb),
    touch: (i, cb) => store.touch(sid(i), sess, cb),
    // Keys that do not exist: the same DEL every time, as many times as asked.
    destroy: (i, cb) => store.destroy(`absent-${i}`, cb),
  }[op]
  await drive((i, cb) => store.set(sid(i), sess, cb), { inflight: 256, durMs: Infinity, maxOps: 1000 })
  await drive(run, { inflight, durMs: Infinity, maxOps: WARM_OPS })
  execFileSync('callgrind_control', ['--instr=on', String(process.pid)], { stdio: 'ignore' })
  const r = await drive(run, { inflight, durMs: Infinity, maxOps: ops })
  execFileSync('callgrind_control', ['--instr=off', String(process.pid)], { stdio: 'ignore' })
  await close()
  if (r.errors) throw new Error(`${name} ${op}: ${r.errors} errors (${r.firstError})`)
}

/**
 * Instructions per operation of store `name` doing `op`: in all threads, in the main thread
 * alone (the one the event loop runs on: what "main-thread busy time" counts), and in the main
 * thread's JSON.parse / JSON.stringify (express-session's serializer; this store's set hands
 * JSON.stringify a session whose Date is already formatted, lib/session-json.js).
 */
function measure(name, port, op, ops, inflight, bytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'instructions-'))
  try {
    const out = path.join(dir, 'callgrind.out')
    const res = spawnSync(
      'valgrind',
      ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`, process.execPath, __filename, '--child', name, String(port), op, String(ops), String(inflight), String(bytes)],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    )
    const collected = /Collected : (\d+)/.exec(res.stderr)
    if (res.status !== 0 || !collected) throw new Error(`${name} ${op}: callgrind gave no count (exit ${res.status})\n${res.stderr.slice(-2000)}`)
    // One file per thread; the main thread's is the first.
    const main = `${out}-01`
    const totals = /^totals: (\d+)/m.exec(fs.readFileSync(main, 'utf8'))
    const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', main], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    let json = 0
    for (const builtin of ['Builtin_JsonParse', 'Builtin_JsonStringify']) {
      const line = annotated.split('\n').find((l) => l.includes(`v8::internal::${builtin}(`))
      if (line) json += Number(line.trim().split(' ')[0].replace(/,/g, ''))
    }
    return { all: Number(collected[1]) / ops, main: totals ? Number(totals[1]) / ops : NaN, json: json / ops }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function main() {
  const args = process.argv.slice(2)
  const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
  const stores = flag('--stores', 'rs,cr10-node-redis').split(',')
  const inflight = Number(flag('--inflight', 256))
  const bytes = Number(flag('--bytes', 200))
  const ops = flag('--ops', OPS.join(',')).split(',')
  const count = Number(args.find((a, i) => /^\d+$/.test(a) && (i === 0 || !args[i - 1].startsWith('--'))) || 20000)
  const redis = await BenchRedis.start()
  try {
    console.log(`Instructions per operation (user space, callgrind), ${bytes} B sessions, ${inflight} in flight, ${count} operations`)
    console.log('')
    const n = (c) => Math.round(c).toLocaleString('en')
    const anchor = stores[stores.length - 1]
    console.log(`| op | ${stores.join(' | ')} | × | main thread: ${stores.join(' | ')} | × | of which ${stores[0]}'s JSON.parse / stringify | × with no store work but JSON |`)
    console.log(`|---|${stores.map(() => '---|').join('')}---|${stores.map(() => '---|').join('')}---|---|---|`)
    for (const op of ops) {
      const counts = stores.map((name) => measure(name, redis.port, op, count, inflight, bytes))
      const first = counts[0]
      const last = counts[counts.length - 1]
      console.log(
        `| ${op} | ${counts.map((c) => n(c.all)).join(' | ')} | ${(first.all / last.all).toFixed(2)}× | ` +
          `${counts.map((c) => n(c.main)).join(' | ')} | ${(first.main / last.main).toFixed(2)}× | ` +
          `${n(first.json)} | ${(first.json / last.main).toFixed(2)}× |`,
      )
    }
    console.log('')
    console.log(`× = over ${anchor}. The last column is the ratio ${stores[0]} would have if its main thread did nothing but that JSON.parse / JSON.stringify.`)
  } finally {
    await redis.admin.quit()
    await redis.server.close()
  }
}

if (process.argv[2] === '--child') {
  const [, , , name, port, op, ops, inflight, bytes] = process.argv
  child(name, Number(port), op, Number(ops), Number(inflight), Number(bytes)).then(
    () => process.exit(0),
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
} else {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}
