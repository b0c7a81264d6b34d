'use strict'
// Small test utilities that talk to a throwaway redis-server (scripts/redis-server.js) directly,
// without going through the store: a raw pipelined RESP client (for raw bytes and fast bulk
// writes), a MONITOR recorder, and helpers to close stores and wait for conditions.

const net = require('node:net')
const { spawn } = require('node:child_process')
const readline = require('node:readline')
const crypto = require('node:crypto')

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A unique key prefix per test, so tests in one file can run concurrently. */
function uid(label = 't') {
  return `${label}-${crypto.randomBytes(4).toString('hex')}:`
}

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)]
  for (const arg of args) {
    const buf = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg))
    parts.push(Buffer.from(`$${buf.length}\r\n`), buf, Buffer.from('\r\n'))
  }
  return Buffer.concat(parts)
}

// Parses one RESP2 reply from buf at offset; returns [value, nextOffset] or null when incomplete.
function parseReply(buf, offset) {
  if (offset >= buf.length) return null
  const end = buf.indexOf('\r\n', offset)
  if (end === -1) return null
  const type = String.fromCharCode(buf[offset])
  const line = buf.toString('utf8', offset + 1, end)
  const next = end + 2
  switch (type) {
    case '+':
      return [line, next]
    case '-': {
      const err = new Error(line)
      err.isReplyError = true
      return [err, next]
    }
    case ':':
      return [Number(line), next]
    case '$': {
      const len = Number(line)
      if (len === -1) return [null, next]
      if (buf.length < next + len + 2) return null
      return [buf.subarray(next, next + len), next + len + 2]
    }
    case '*': {
      const n = Number(line)
      if (n === -1) return [null, next]
      const items = []
      let pos = next
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, pos)
        if (!r) return null
        items.push(r[0])
        pos = r[1]
      }
      return [items, pos]
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`)
  }
}

/**
 * Sends commands (arrays of strings/Buffers) pipelined on one fresh TCP connection and resolves
 * with their replies (bulk strings as Buffers, errors as Error objects). AUTHs first when the
 * server has a password, and SELECTs `db` when given.
 */
function rawCommands(r, commands, { db } = {}) {
  const pre = []
  if (r.password) pre.push(['AUTH', r.password])
  if (db !== undefined) pre.push(['SELECT', String(db)])
  const all = [...pre, ...commands]
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: r.host, port: r.port })
    let buf = Buffer.alloc(0)
    let offset = 0
    const replies = []
    sock.on('error', reject)
    sock.on('connect', () => {
      // Write in slices so very large pipelines do not build one giant buffer.
      const slice = 5000
      for (let i = 0; i < all.length; i += slice) {
        sock.write(Buffer.concat(all.slice(i, i + slice).map(encodeCommand)))
      }
    })
    sock.on('data', (chunk) => {
      buf = offset < buf.length ? Buffer.concat([buf.subarray(offset), chunk]) : chunk
      offset = 0
      for (;;) {
        const res = parseReply(buf, offset)
        if (!res) break
        replies.push(res[0])
        offset = res[1]
      }
      if (replies.length >= all.length) {
        sock.end()
        const head = replies.slice(0, pre.length)
        const bad = head.find((x) => x instanceof Error)
        if (bad) reject(bad)
        else resolve(replies.slice(pre.length))
      }
    })
  })
}

async function rawCommand(r, args, opts) {
  const [reply] = await rawCommands(r, [args], opts)
  return reply
}

// MONITOR line: `1700000000.123456 [0 127.0.0.1:5555] "CMD" "arg" ...`
function parseMonitorLine(line) {
  const m = /^\d+\.\d+ \[(\d+) ([^\]]*)\] (.*)$/.exec(line)
  if (!m) return null
  const args = []
  const re = /"((?:[^"\\]|\\.)*)"/g
  let a
  while ((a = re.exec(m[3]))) args.push(unescapeRepr(a[1]))
  if (args.length === 0) return null
  return { db: Number(m[1]), client: m[2], cmd: args[0].toUpperCase(), args: args.slice(1), line }
}

function unescapeRepr(s) {
  const bytes = []
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'latin1'))
      continue
    }
    const n = s[++i]
    if (n === 'x') {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      const map = { n: 10, r: 13, t: 9, a: 7, b: 8, '"': 34, '\\': 92 }
      bytes.push(n in map ? map[n] : n.charCodeAt(0))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * Starts `redis-cli MONITOR` against the server and records every command. `stop()` waits until
 * everything sent before it has been seen (using an ECHO sentinel), stops the child and resolves
 * with the parsed commands.
 */
async function monitor(r) {
  const child = spawn('redis-cli', r.cliArgs(['MONITOR']), { stdio: ['ignore', 'pipe', 'pipe'] })
  const entries = []
  const waiters = []
  let ready
  const readyP = new Promise((resolve, reject) => {
    ready = resolve
    child.on('error', reject)
    setTimeout(() => reject(new Error('MONITOR did not start')), 10000).unref()
  })
  const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity })
  rl.on('line', (line) => {
    if (line === 'OK') return ready()
    const e = parseMonitorLine(line)
    if (!e) return
    entries.push(e)
    for (const w of waiters.slice()) w(e)
  })
  await readyP
  return {
    entries,
    async stop() {
      const token = `monitor-sentinel-${crypto.randomBytes(6).toString('hex')}`
      const seen = new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('MONITOR sentinel not seen')), 20000)
        waiters.push((e) => {
          if (e.cmd === 'ECHO' && e.args[0] === token) {
            clearTimeout(t)
            resolve()
          }
        })
      })
      await r.cli('ECHO', token)
      await seen
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill()
      await exited
      return entries.filter((e) => !(e.cmd === 'ECHO' && e.args[0] === token) && e.cmd !== 'AUTH')
    },
  }
}

/** Closes a store's own connection, never hanging a test's teardown. */
async function closeStore(store) {
  if (!store) return
  const closing = (async () => {
    try {
      if (typeof store.close === 'function') {
        await store.close()
      } else if (store.client && typeof store.client.quit === 'function') {
        await new Promise((resolve) => {
          const ret = store.client.quit(() => resolve())
          if (ret && typeof ret.then === 'function') ret.then(resolve, resolve)
        })
      }
    } catch {}
  })()
  await Promise.race([closing, sleep(3000)])
}

/** Polls fn until it returns a truthy value or the timeout passes; resolves with the last value. */
async function waitFor(fn, { timeout = 3000, interval = 20 } = {}) {
  const deadline = Date.now() + timeout
  for (;;) {
    const v = await fn()
    if (v || Date.now() > deadline) return v
    await sleep(interval)
  }
}

/**
 * Calls fn and returns the error it throws synchronously or the rejection of the promise it
 * returns; returns undefined if it neither throws nor rejects.
 */
async function syncOrAsyncError(fn) {
  let ret
  try {
    ret = fn()
  } catch (err) {
    return err
  }
  try {
    await ret
  } catch (err) {
    return err
  }
  return undefined
}

/** Calls a store method in callback style; resolves with { err, result, calls, promise }. */
function viaCallback(store, method, ...args) {
  return new Promise((resolve, reject) => {
    let calls = 0
    let promise
    const timer = setTimeout(() => reject(new Error(`${method}: callback not called`)), 10000)
    promise = store[method](...args, (err, result) => {
      calls++
      clearTimeout(timer)
      // Let anything that would call back twice do so before resolving.
      setTimeout(() => resolve({ err, result, get calls() { return calls }, promise }), 30)
    })
  })
}

/**
 * One redis-server for a whole test file: started before its tests, stopped after them. The
 * returned object stands for the server (`r.port`, `r.cli(...)`, `r.stop()`) once it runs.
 */
function useRedis(test, options) {
  let server = null
  test.before(async () => {
    server = await require('../../scripts/redis-server').startRedis(options)
  })
  test.after.always(async () => {
    if (server) await server.close()
  })
  return new Proxy(
    {},
    {
      get(_, key) {
        if (!server) throw new Error(`the test redis-server is not running (reading ${String(key)})`)
        const value = server[key]
        return typeof value === 'function' ? value.bind(server) : value
      },
    },
  )
}

module.exports = {
  useRedis,
  sleep,
  uid,
  encodeCommand,
  rawCommands,
  rawCommand,
  parseMonitorLine,
  monitor,
  closeStore,
  waitFor,
  syncOrAsyncError,
  viaCallback,
}
