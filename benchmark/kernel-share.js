'use strict'
// How much of one get at 1 in flight is the kernel's (loopback send, poll, receive) and how
// much is the client's own code, per store, and its main-thread time (event-loop utilization,
// as the benchmark's "busy"), beside a bare net.Socket client that only writes the GET and
// parses the session (benchmark/bare-socket.js: what Node's own sockets cost every JS store).
// The measurement behind the README's account of main-thread time at 1 in flight. Each store
// runs in its own child, pinned to core 0, with Redis on the same core (--redis-core 1: on the
// other one). With --perf (needs perf) each child also runs under `perf record`, and the
// symbols where its samples fell most follow the table (`[k]` kernel, `[.]` user space).
//   node benchmark/kernel-share.js [ops] [--redis-core 1] [--perf]

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { performance } = require('node:perf_hooks')
const { BenchRedis } = require('./redis')
const { makeSession } = require('./sessions')

const STORES = ['rs', 'cr10-node-redis', 'cr3', 'bare-socket']
const ANCHOR = 'cr3'

async function child(name, port, ops) {
  const { openStore } = require('./stores')
  const { openBareSocket } = require('./bare-socket')
  const { busyUsPerOp } = require('./ops')
  const { store, close } = name === 'bare-socket' ? await openBareSocket({ host: '127.0.0.1', port }) : await openStore(name, { port })
  const run = (n) =>
    new Promise((resolve, reject) => {
      let left = n
      const next = (err, sess) => {
        if (left < n && (err || !sess || !sess.cookie)) return reject(new Error(`${name}: get gave no session (${err})`))
        if (left-- === 0) resolve()
        else store.get('k', next)
      }
      next()
    })
  await run(ops / 2)
  const cpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  const t0 = process.hrtime.bigint()
  await run(ops)
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000
  const elu = performance.eventLoopUtilization(elu0)
  const cpu = process.cpuUsage(cpu0)
  await close()
  return { store: name, opsPerSec: ops / (wallUs / 1e6), userUs: cpu.user / ops, systemUs: cpu.system / ops, busyUs: busyUsPerOp(elu, ops) }
}

/** The `top` symbols of a perf.data file with their share of all samples. */
function hottest(data, top) {
  const report = execFileSync('perf', ['report', '-i', data, '--stdio', '--no-children', '--sort', 'sym', '-g', 'none'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  })
  return report
    .split('\n')
    .filter((line) => /^\s+\d+\.\d+%/.test(line))
    .slice(0, top)
    .map((line) => line.trim().replace(/\s+/g, ' '))
}

async function main() {
  const args = process.argv.slice(2)
  const ops = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--redis-core') || 20000)
  const perf = args.includes('--perf')
  const redisCore = args.includes('--redis-core') ? Number(args[args.indexOf('--redis-core') + 1]) : 0
  if (!Number.isInteger(redisCore) || redisCore < 0 || redisCore >= os.cpus().length) {
    throw new Error(`--redis-core takes a core number from 0 to ${os.cpus().length - 1}; got ${args[args.indexOf('--redis-core') + 1]}`)
  }
  const redis = await BenchRedis.start()
  redis.pinTo(redisCore)
  // The session every child reads (the bare socket has no `set`), as the stores store it.
  await redis.admin.set('sess:k', JSON.stringify(makeSession(200)))
  const dir = perf ? fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-share-')) : null
  const profiles = []
  try {
    const rows = []
    for (const name of STORES) {
      const child = [process.execPath, __filename, '--child', name, String(redis.port), String(ops)]
      const data = perf ? path.join(dir, `${name}.data`) : null
      const command = perf ? ['perf', 'record', '-q', '-e', 'cpu-clock', '-o', data, '--', ...child] : child
      const out = execFileSync('taskset', ['-c', '0', ...command], { encoding: 'utf8' })
      rows.push(JSON.parse(out.trim().split('\n').pop()))
      if (perf) profiles.push([name, hottest(data, 8)])
    }
    const anchor = rows.find((r) => r.store === ANCHOR)
    console.log(`| store | ops/s | user µs/op | kernel µs/op | kernel share | main-thread busy µs/op | busy × ${ANCHOR} |`)
    console.log('|---|---|---|---|---|---|---|')
    for (const r of rows) {
      const share = r.systemUs / (r.userUs + r.systemUs)
      const cols = [Math.round(r.opsPerSec), r.userUs.toFixed(1), r.systemUs.toFixed(1), `${Math.round(share * 100)}%`, r.busyUs.toFixed(1), `${(r.busyUs / anchor.busyUs).toFixed(2)}×`]
      console.log(`| ${r.store} | ${cols.join(' | ')} |`)
    }
    for (const [name, lines] of profiles) console.log(`\n${name}, where perf's samples fell most:\n${lines.map((l) => `  ${l}`).join('\n')}`)
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
    await redis.admin.quit()
    await redis.server.close()
  }
}

if (process.argv[2] === '--child') {
  const [, , , name, port, ops] = process.argv
  child(name, Number(port), Number(ops)).then((r) => {
    console.log(JSON.stringify(r))
    process.exit(0)
  })
} else {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

