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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
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
        if ((await this.cli('PING')) === 'PONG') return
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

module.exports = { startRedis, RedisServer, freePort, redisCli, sleep }
