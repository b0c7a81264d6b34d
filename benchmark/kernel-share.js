'use strict'
// How much of one operation at 1 in flight is the kernel's (loopback send, poll, receive) and
// how much is the client's own code, per store: the measurement behind the README's account of
// main-thread time at 1 in flight. Each store runs in its own child, pinned to core 0, with
// Redis on the same core (--redis-core 1: on the other one). With --perf (needs perf) each child
// also runs under `perf record`, and the symbols where its samples fell most follow the table
// (`[k]` kernel, `[.]` user space).
//   node benchmark/kernel-share.js [ops] [--redis-core 1] [--perf]

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { BenchRedis } = require('./redis')
const { makeSession } = require('./sessions')

const STORES = ['rs', 'cr10-node-redis', 'cr3']

async function child(name, port, ops) {
  const { openStore } = require('./stores')
  const { store, close } = await openStore(name, { port })
  const sess = makeSession(200)
  await new Promise((resolve) => store.set('k', sess, resolve))
  const run = (n) =>
    new Promise((resolve) => {
      let left = n
      const next = () => (left-- === 0 ? resolve() : store.get('k', next))
      next()
    })
  await run(ops / 2)
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await run(ops)
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await close()
  return { store: name, opsPerSec: ops / (wallUs / 1e6), userUs: cpu.user / ops, systemUs: cpu.system / ops }
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
  const dir = perf ? fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-share-')) : null
  const profiles = []
  try {
    console.log('| store | ops/s | user µs/op | kernel µs/op | kernel share |')
    console.log('|---|---|---|---|---|')
    for (const name of STORES) {
      const child = [process.execPath, __filename, '--child', name, String(redis.port), String(ops)]
      const data = perf ? path.join(dir, `${name}.data`) : null
      const command = perf ? ['perf', 'record', '-q', '-e', 'cpu-clock', '-o', data, '--', ...child] : child
      const out = execFileSync('taskset', ['-c', '0', ...command], { encoding: 'utf8' })
      const r = JSON.parse(out.trim().split('\n').pop())
      const share = r.systemUs / (r.userUs + r.systemUs)
      console.log(`| ${r.store} | ${Math.round(r.opsPerSec)} | ${r.userUs.toFixed(1)} | ${r.systemUs.toFixed(1)} | ${Math.round(share * 100)}% |`)
      if (perf) profiles.push([name, hottest(data, 8)])
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

