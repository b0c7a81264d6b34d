'use strict'
// The parent's side of Redis: the server it starts, where it runs, an admin connection (never
// used while a store is being timed), filling keys, SLOWLOG and the redis-benchmark ceiling.

const { execFile } = require('node:child_process')
const Redis = require('ioredis')
const { startRedis } = require('../scripts/redis-server')
const { pin } = require('./proc')
const { makeSession, poolSid } = require('./sessions')
const { median, maxOf } = require('./stats')
const { describeArgs } = require('../scripts/slowlog')

const ADMIN_NAME = 'bench-admin'
const TTL = 86400
const FILL = `for i = tonumber(ARGV[2]), tonumber(ARGV[3]) do
  redis.call('SET', ARGV[1] .. i, ARGV[4], 'EX', ARGV[5])
end
return 1`

class BenchRedis {
  static async start() {
    const server = await startRedis()
    const admin = new Redis({ port: server.port, connectionName: ADMIN_NAME, lazyConnect: true })
    await admin.connect()
    return new BenchRedis(server, admin)
  }

  constructor(server, admin) {
    this.server = server
    this.admin = admin
    this.port = server.port
    this.cpu = null
  }

  /** Pins redis-server (all of its threads) to `cpu`. */
  pinTo(cpu) {
    if (this.cpu === cpu) return
    pin(this.server.pid, cpu)
    this.cpu = cpu
  }

  flush() {
    return this.admin.flushall()
  }

  /**
   * Writes `${pool}-from … ${pool}-(to-1)` with a session of `size` bytes, as every store would
   * (prefix + sid → JSON, SET … EX). A Lua loop inside Redis: far faster than any client.
   */
  async fill(pool, from, to, size, prefix = 'sess:') {
    const value = JSON.stringify(makeSession(size))
    const CHUNK = 20000
    for (let start = from; start < to; start += CHUNK) {
      const end = Math.min(to, start + CHUNK)
      await this.admin.eval(FILL, 0, `${prefix}${poolSid(pool, '')}`, start, end - 1, value, TTL)
    }
  }

  dbsize() {
    return this.admin.dbsize()
  }

  /** Logs every command from now on (slowlog-log-slower-than 0), keeping up to `maxLen` of them. */
  async slowlogAll(maxLen = 1000000) {
    await this.admin.config('SET', 'slowlog-log-slower-than', '0')
    await this.admin.config('SET', 'slowlog-max-len', String(maxLen))
    await this.admin.slowlog('RESET')
  }

  async slowlogOff() {
    await this.admin.config('SET', 'slowlog-log-slower-than', '10000')
    await this.admin.config('SET', 'slowlog-max-len', '128')
    await this.admin.slowlog('RESET')
  }

  slowlogReset() {
    return this.admin.slowlog('RESET')
  }

  /**
   * The slowest command logged since the last reset, leaving out the admin connection's own,
   * with what tells its work from the machine's pauses: the median time of the commands of its
   * name (`kindMedianUs`) and the slowest SCAN (`scanUs`: COUNT 100, a fixed, small amount of work).
   */
  async slowest() {
    const entries = await this.admin.slowlog('GET', '-1')
    let worst = null
    const byName = new Map()
    for (const [, , micros, args, , name] of entries) {
      if (name === ADMIN_NAME) continue
      const command = String(args[0]).toUpperCase()
      if (!byName.has(command)) byName.set(command, [])
      byName.get(command).push(micros)
      if (!worst || micros > worst.us) worst = { us: micros, command: describeArgs(args), name: command }
    }
    if (!worst) return null
    return { us: worst.us, command: worst.command, kindMedianUs: median(byName.get(worst.name)), scanUs: maxOf(byName.get('SCAN') || []) }
  }

  /** `redis-benchmark -t get -P 16 -d 200 -q` from core `cpu`, the key holding 200 bytes first. */
  async ceiling({ cpu, requests }) {
    await this.admin.set('key:__rand_int__', 'x'.repeat(200))
    const args = ['-p', String(this.port), '-t', 'get', '-P', '16', '-d', '200', '-n', String(requests), '-q']
    const out = await run('taskset', ['-c', String(cpu), 'redis-benchmark', ...args])
    const match = /GET: ([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/.exec(out)
    if (!match) throw new Error(`unexpected redis-benchmark output: ${out}`)
    return { opsPerSec: Number(match[1]), p50Us: match[2] ? Number(match[2]) * 1000 : null, command: `redis-benchmark ${args.join(' ')}` }
  }

  async version() {
    const info = await this.admin.info('server')
    return /redis_version:(\S+)/.exec(info)[1]
  }

  async close() {
    this.admin.disconnect()
    await this.server.close()
  }
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`)) : resolve(String(stdout)),
    )
  })
}

module.exports = { BenchRedis, run }
