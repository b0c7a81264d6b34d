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

function measure(name, port, op, ops, inflight, bytes) {
  const res = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', '--callgrind-out-file=/dev/null', process.execPath, __filename, '--child', name, String(port), op, String(ops), String(inflight), String(bytes)],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  const collected = /Collected : (\d+)/.exec(res.stderr)
  if (res.status !== 0 || !collected) throw new Error(`${name} ${op}: callgrind gave no count (exit ${res.status})\n${res.stderr.slice(-2000)}`)
  return Number(collected[1]) / ops
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
    console.log(`Instructions per operation (user space, callgrind), ${bytes} B sessions, ${inflight} in flight, ${count} operations; × = over ${stores[stores.length - 1]}`)
    console.log('')
    console.log(`| op | ${stores.join(' | ')} | × |`)
    console.log(`|---|${stores.map(() => '---|').join('')}---|`)
    for (const op of ops) {
      const counts = stores.map((name) => measure(name, redis.port, op, count, inflight, bytes))
      const ratio = counts[0] / counts[counts.length - 1]
      console.log(`| ${op} | ${counts.map((c) => Math.round(c).toLocaleString('en')).join(' | ')} | ${ratio.toFixed(2)}× |`)
    }
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
