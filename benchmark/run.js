#!/usr/bin/env node
'use strict'
// connect-redis-rs against connect-redis, in one run on one redis-server this script starts:
//   1. verify   every store reads what every other store wrote (else stop: exit 1)
//   2. ceiling  redis-benchmark on the same server, in each placement
//   3. ops      get / set / touch / destroy at 1, 16, 256 in flight, 200 B / 2 KB / 20 KB,
//               Redis on Node's core and on the other core (ops.js)
//   4. bulk     length / ids / all / clear over 1,000 and 200,000 sessions (bulk.js)
//   5. http     express + express-session under autocannon (http.js)
// and writes benchmark/results/latest.{md,json} and chart.svg (report.js, svg.js).
// Usage and flags: config.js. Exit code 1 only when the harness breaks (a mismatch, a crash).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { parseArgs } = require('./config')
const { BenchRedis } = require('./redis')
const { runChild } = require('./proc')
const { runOps, runGetFloor, placementsOf, REDIS_CPU, NODE_CPU } = require('./ops')
const { runBulk } = require('./bulk')
const { medianItem } = require('./stats')
const { runHttp } = require('./http')
const { writeReport } = require('./report')
const { updateReadme } = require('./readme-table')
const { busyFraction } = require('./cpu')

function log(line) {
  process.stdout.write(`${line}\n`)
}

/** A package's version, read from its folder (some packages do not export package.json). */
function version(pkg) {
  const dir = path.isAbsolute(pkg) ? pkg : path.join(__dirname, '..', 'node_modules', pkg)
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
  } catch {
    return '?'
  }
}

function commit() {
  try {
    const root = path.join(__dirname, '..')
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'lib', 'index.js'], { cwd: root, encoding: 'utf8' }).trim()
    return dirty ? `${head} (src/lib modified)` : head
  } catch {
    return 'unknown'
  }
}

async function machine(redis) {
  const nodeRedis3 = path.join(__dirname, '..', 'node_modules', 'connect-redis-3', 'node_modules', 'redis')
  return {
    cpu: os.cpus()[0].model.trim(),
    cores: os.cpus().length,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    redis: await redis.version(),
    commit: commit(),
    loadStart: os.loadavg(),
    busyBefore: await busyFraction(1000),
    versions: {
      rs: require('../package.json').version,
      'rs-bg': require('../package.json').version,
      memory: `express-session ${version('express-session')}`,
      free: `express-session ${version('express-session')} Store`,
      'free-next-turn': `express-session ${version('express-session')} Store`,
      'cr10-node-redis': `connect-redis ${version('connect-redis-10')}, redis ${version('redis-5')}`,
      'cr10-ioredis': `connect-redis ${version('connect-redis-10')}, ioredis ${version('ioredis')}`,
      cr3: `connect-redis ${version('connect-redis-3')}, redis ${version(nodeRedis3)}`,
      express: version('express'),
      'express-session': version('express-session'),
      autocannon: version('autocannon'),
    },
  }
}

async function main() {
  const config = parseArgs()
  const started = Date.now()
  const failures = []
  const fail = (message) => {
    failures.push(message)
    log(`FAILED: ${message}`)
  }
  log(`connect-redis-rs benchmark, ${config.mode} mode: ${config.command}`)
  if (!fs.existsSync(path.join(__dirname, '..', 'connect-redis-rs.linux-x64-gnu.node')) && !fs.readdirSync(path.join(__dirname, '..')).some((f) => f.endsWith('.node'))) {
    throw new Error('the native addon is not built: run `npm run build` first')
  }
  const redis = await BenchRedis.start()
  const other = config.placements.includes('other') ? REDIS_CPU.other : REDIS_CPU.same
  const raw = {
    meta: {
      config,
      machine: await machine(redis),
      startedAt: new Date(started).toISOString(),
      placementOf: { bulk: other === REDIS_CPU.other ? 'other' : 'same', http: 'same' },
    },
    failures,
    ceiling: [],
    getFloor: null,
    ops: [],
    bulk: [],
    http: [],
  }
  try {
    const phases = (raw.meta.phaseSeconds = {})
    const phase = async (name, fn) => {
      const t0 = Date.now()
      const value = await fn()
      phases[name] = (Date.now() - t0) / 1000
      return value
    }
    redis.pinTo(REDIS_CPU.same)
    await phase('verify', async () => {
      const verified = await runChild(path.join(__dirname, 'verify.js'), { port: redis.port, sizes: config.sizes }, {
        onAsk: (what, key) => (what === 'shorten' ? redis.admin.expire(key, 100) : redis.admin.ttl(key)),
      })
      log(`verify: ${verified.checks} checks passed, every store sees the same sessions`)
    })
    if (config.only.includes('ceiling')) {
      await phase('ceiling', async () => {
        // One redis-benchmark run moves with the VM as much as a cell does: one per round, the
        // placements alternating, and the median kept.
        const runs = Object.fromEntries(config.placements.map((placement) => [placement, []]))
        for (let round = 1; round <= config.rounds; round++) {
          for (const placement of placementsOf(config, round)) {
            redis.pinTo(REDIS_CPU[placement])
            runs[placement].push(await redis.ceiling({ cpu: NODE_CPU, requests: config.ceilingRequests }))
          }
        }
        for (const placement of config.placements) {
          const rates = runs[placement].map((r) => r.opsPerSec)
          const c = medianItem(runs[placement], 'opsPerSec')
          raw.ceiling.push({ placement, ...c, runs: rates })
          log(`[ceiling ${placement} core] ${Math.round(c.opsPerSec)} GET/s (${rates.map(Math.round).join(', ')})`)
        }
        raw.getFloor = await runGetFloor(redis, config)
        log(`[ceiling] a store that only parses: ${Math.round(raw.getFloor.opsPerSec)} gets/s, with a Promise per get ${Math.round(raw.getFloor.withPromise.opsPerSec)} (200 B, 256 in flight)`)
      })
    }
    if (config.only.includes('ops')) {
      raw.ops = await phase('ops', () => runOps(redis, config, { log, fail }))
      await redis.flush()
    }
    if (config.only.includes('bulk')) {
      raw.bulk = await phase('bulk', () => runBulk(redis, config, { log, fail, nodeCpu: NODE_CPU, redisCpu: other }))
    }
    if (config.only.includes('http')) {
      const loadCpu = os.cpus().length > 1 ? 1 : 0
      raw.http = await phase('http', () => runHttp(redis, config, { log, fail, serverCpu: NODE_CPU, loadCpu, redisCpu: REDIS_CPU.same }))
    }
  } finally {
    await redis.close()
  }
  raw.meta.machine.loadEnd = os.loadavg()
  raw.meta.finishedAt = new Date().toISOString()
  raw.meta.durationS = (Date.now() - started) / 1000
  const { md } = writeReport(raw, config.out)
  log('')
  log(md)
  log(`Written to ${path.relative(process.cwd(), config.out) || '.'}/latest.md, latest.json, chart.svg in ${raw.meta.durationS.toFixed(0)} s`)
  if (config.out === path.join(__dirname, 'results') && raw.ops.length) {
    try {
      if (updateReadme()) log('README.md: its benchmark summary now shows this run')
    } catch (err) {
      log(`README.md not updated: ${err.message}`)
    }
  }
  if (failures.length) {
    log(`${failures.length} failure(s): the harness or a store misbehaved`)
    process.exitCode = 1
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
