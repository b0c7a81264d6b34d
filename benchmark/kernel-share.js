'use strict'
// How much of one operation at 1 in flight is the kernel's (loopback send, poll, receive) and
// how much is the client's own code, per store: the measurement behind the README's "busy ≤ 0.5×
// is out of reach at 1 in flight". Each store runs in its own child, pinned with Redis to core 0.
//   node benchmark/kernel-share.js [ops]

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

async function main() {
  const ops = Number(process.argv[2] || 20000)
  const redis = await BenchRedis.start()
  redis.pinTo(0)
  console.log('| store | ops/s | user µs/op | kernel µs/op | kernel share |')
  console.log('|---|---|---|---|---|')
  for (const name of STORES) {
    const out = execFileSync('taskset', ['-c', '0', process.execPath, __filename, '--child', name, String(redis.port), String(ops)], {
      encoding: 'utf8',
    })
    const r = JSON.parse(out.trim().split('\n').pop())
    const share = r.systemUs / (r.userUs + r.systemUs)
    console.log(`| ${r.store} | ${Math.round(r.opsPerSec)} | ${r.userUs.toFixed(1)} | ${r.systemUs.toFixed(1)} | ${Math.round(share * 100)}% |`)
  }
  await redis.admin.quit()
  await redis.server.close()
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

