'use strict'
// Starts throwaway redis-server processes on free ports for tests, examples and benchmarks.
// Each server keeps nothing on disk unless asked, and is stopped by pid.

const { spawn, execFile } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

// Every running redis-server process started here, killed if this process exits first.
const live = new Set()
process.on('exit', () => {
  for (const proc of live) {
    try {
      process.kill(proc.pid, 'SIGKILL')
    } catch {}
  }
})

// Ports are claimed across every process that starts servers here at once (ava runs test files
// side by side): a port that one process found free and closed again could otherwise be taken by
// another's server before its own starts, and a PING answered by the wrong server. A claim is a
// directory named after the port (mkdir is atomic) holding the claimer's pid; claims of a process
// that has died are taken over. Ports come from below the kernel's ephemeral range, which the
// local ends of outgoing connections are taken from.
const CLAIMS = path.join(os.tmpdir(), 'connect-redis-rs-ports')
const claimed = new Set()
process.on('exit', () => {
  for (const port of claimed) fs.rmSync(path.join(CLAIMS, String(port)), { recursive: true, force: true })
})

function portRange() {
  let ephemeralLow = 32768
  try {
    ephemeralLow = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralLow
  } catch {}
  return ephemeralLow > 12000 ? [10000, ephemeralLow] : [1024, ephemeralLow]
}

function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/** Claims `port` for this process; false if a live process holds it. */
function claim(port) {
  const dir = path.join(CLAIMS, String(port))
  for (;;) {
    try {
      fs.mkdirSync(dir)
      fs.writeFileSync(path.join(dir, 'pid'), String(process.pid))
      claimed.add(port)
      return true
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
    let holder = NaN
    try {
      holder = Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'))
    } catch {}
    // No pid yet: its claimer is between mkdir and write, alive.
    if (!Number.isInteger(holder) || holder === 0 || isAlive(holder)) return false
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function canListen(port) {
  return new Promise((resolve) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** A port nothing listens on, claimed for this process until it exits. */
async function freePort() {
  fs.mkdirSync(CLAIMS, { recursive: true })
  const [low, high] = portRange()
  for (;;) {
    const port = low + Math.floor(Math.random() * (high - low))
    if (!claim(port)) continue
    if (await canListen(port)) return port
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function redisCli(args, { timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `${stdout ? `\n${stdout}` : ''}\n${stderr}`
        reject(err)
      } else {
        resolve(stdout.replace(/\n$/, ''))
      }
    })
  })
}

/**
 * One redis-server process on a fixed port with its own dir; start() / stop() can be repeated.
 * The home of starting, waiting for and stopping a redis-server: scripts/redis-cluster.js
 * (RedisNode) and scripts/redis-sentinel.js extend it, overriding serverArgs() / cliArgs().
 */
class RedisServer {
  constructor({ port, dir, args = [], password, unixSocket, logFile = path.join(dir, 'redis.log'), cliTimeout = 10000 }) {
    this.host = '127.0.0.1'
    this.port = port
    this.dir = dir
    this.args = args
    this.password = password
    this.socket = unixSocket ? path.join(dir, 'redis.sock') : undefined
    this.logFile = logFile
    this.cliTimeout = cliTimeout
    this.url = `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`
    this.proc = null
  }

  get pid() {
    return this.proc ? this.proc.pid : undefined
  }

  get running() {
    return Boolean(this.proc)
  }

  /** Where the server listens (RedisNode: TLS only). */
  listenArgs() {
    return ['--port', String(this.port)]
  }

  /** How clients authenticate (RedisNode: the replication link too). */
  authArgs() {
    return this.password ? ['--requirepass', this.password] : []
  }

  serverArgs() {
    return [
      ...this.listenArgs(),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--logfile', this.logFile,
      ...(this.socket ? ['--unixsocket', this.socket, '--unixsocketperm', '700'] : []),
      ...this.authArgs(),
      ...this.args,
    ]
  }

  async start({ wait = true } = {}) {
    if (this.proc) return this
    const proc = spawn('redis-server', this.serverArgs(), { stdio: 'ignore' })
    this.proc = proc
    live.add(proc)
    proc.on('exit', () => {
      live.delete(proc)
      if (this.proc === proc) this.proc = null
    })
    if (wait) await this.waitReady()
    return this
  }

  /** redis-cli's connection options beyond host and port (RedisNode: TLS). */
  cliTlsArgs() {
    return []
  }

  cliArgs(args) {
    const auth = this.password ? ['--no-auth-warning', '-a', this.password] : []
    return ['-h', this.host, '-p', String(this.port), ...this.cliTlsArgs(), ...auth, ...args]
  }

  /** Runs one redis-cli command against this server and resolves with its raw output. */
  cli(...args) {
    return redisCli(this.cliArgs(args), { timeout: this.cliTimeout })
  }

  async waitReady(timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        if ((await this.cli('PING')) === 'PONG') return this.checkOwnPort()
      } catch (err) {
        if (Date.now() > deadline) throw err
      }
      if (!this.proc) {
        let log = ''
        try {
          log = fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n')
        } catch {}
        throw new Error(`redis-server on port ${this.port} exited; see ${this.logFile}:\n${log}`)
      }
      await sleep(25)
    }
  }

  /** The server that answers on this port must be the one started here. */
  async checkOwnPort() {
    const info = await this.cli('INFO', 'server')
    const pid = Number((/process_id:(\d+)/.exec(info) || [])[1])
    if (!this.proc || pid !== this.proc.pid) {
      const mine = this.proc ? `pid ${this.proc.pid}` : 'it has exited'
      throw new Error(`port ${this.port} is answered by another redis-server (pid ${pid}), not the one started here (${mine}); see ${this.logFile}`)
    }
  }

  signal(sig) {
    if (this.proc) process.kill(this.proc.pid, sig)
  }

  /** Stops the server (SIGKILL by default) and waits until the process is gone. */
  async stop(sig = 'SIGKILL') {
    const proc = this.proc
    if (!proc) return
    const gone = new Promise((resolve) => proc.once('exit', resolve))
    try {
      process.kill(proc.pid, sig)
    } catch {}
    await gone
  }

  async restart() {
    await this.stop()
    return this.start()
  }

  async close() {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Starts a redis-server on a free port.
 * options: { args: [extra redis-server args], password, unixSocket: true, port }
 */
async function startRedis(options = {}) {
  const port = options.port || (await freePort())
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crr-redis-'))
  const server = new RedisServer({
    port,
    dir,
    args: options.args || [],
    password: options.password,
    unixSocket: options.unixSocket,
  })
  return server.start()
}

module.exports = { startRedis, RedisServer, freePort, claimPort: claim, redisCli, sleep }
