'use strict'
// Starts throwaway redis-server processes on free ports for tests, examples and benchmarks.
// Each server keeps nothing on disk unless asked, and is stopped by pid.

const { spawn, execFile } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const live = new Set()
process.on('exit', () => {
  for (const server of live) {
    try {
      process.kill(server.pid, 'SIGKILL')
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
        err.message += `\n${stderr}`
        reject(err)
      } else {
        resolve(stdout.replace(/\n$/, ''))
      }
    })
  })
}

class RedisServer {
  constructor({ port, dir, args, password, unixSocket }) {
    this.host = '127.0.0.1'
    this.port = port
    this.dir = dir
    this.args = args
    this.password = password
    this.socket = unixSocket ? path.join(dir, 'redis.sock') : undefined
    this.url = `redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`
    this.proc = null
  }

  get pid() {
    return this.proc ? this.proc.pid : undefined
  }

  async start() {
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--dir', this.dir,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--logfile', path.join(this.dir, 'redis.log'),
      ...(this.socket ? ['--unixsocket', this.socket, '--unixsocketperm', '700'] : []),
      ...(this.password ? ['--requirepass', this.password] : []),
      ...this.args,
    ]
    const proc = spawn('redis-server', args, { stdio: 'ignore' })
    this.proc = proc
    live.add(this)
    proc.on('exit', () => {
      if (this.proc === proc) this.proc = null
      live.delete(this)
    })
    await this.waitReady()
    return this
  }

  cliArgs(args) {
    const auth = this.password ? ['--no-auth-warning', '-a', this.password] : []
    return ['-h', this.host, '-p', String(this.port), ...auth, ...args]
  }

  /** Runs one redis-cli command against this server and resolves with its raw output. */
  cli(...args) {
    return redisCli(this.cliArgs(args))
  }

  async waitReady(timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        if ((await this.cli('PING')) === 'PONG') return
      } catch (err) {
        if (Date.now() > deadline) throw err
      }
      if (!this.proc) throw new Error(`redis-server on port ${this.port} exited; see ${this.dir}/redis.log`)
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

module.exports = { startRedis, freePort, redisCli, sleep }
