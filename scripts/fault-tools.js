'use strict'
// Utilities for the fault-injection tests (__test__/faults-*.test.js, outage-http, soak,
// bulk-200k): timing store operations, recording events, finding the store's connection in
// CLIENT LIST, and running scripts/session-app.js under autocannon. No mocks: every fault is
// real.

const { fork } = require('node:child_process')
const net = require('node:net')
const path = require('node:path')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The error fields a test asserts on, as plain data. */
function describeError(err) {
  if (err == null) return null
  return { name: err.name, code: err.code, message: String(err.message) }
}

/**
 * Runs `store[method](...args)` (promise form) and resolves with what happened and when:
 * { method, label, start, end, ms, ok, value, err: { name, code, message } | null, hung }.
 * Never rejects. An operation still pending after `guardMs` resolves with `hung: true` so a
 * test can report it instead of hanging itself.
 */
function timed(store, method, args = [], { label, guardMs = 30000, now = Date.now } = {}) {
  const start = now()
  const record = { method, label: label || method, start, end: undefined, ms: undefined, ok: undefined, value: undefined, err: null, hung: false }
  let promise
  try {
    promise = Promise.resolve(store[method](...args))
  } catch (err) {
    promise = Promise.reject(err)
  }
  const settled = promise.then(
    (value) => {
      record.end = now()
      record.ms = record.end - start
      record.ok = true
      record.value = value
      return record
    },
    (err) => {
      record.end = now()
      record.ms = record.end - start
      record.ok = false
      record.err = describeError(err)
      return record
    },
  )
  let timer
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => {
      record.hung = true
      resolve(record)
    }, guardMs)
  })
  return Promise.race([settled, guard]).finally(() => clearTimeout(timer))
}

/** Resolves with `promise`'s outcome, or with `onTimeout()` after `ms`; leaves no timer behind. */
function within(promise, ms, onTimeout = () => undefined) {
  let timer
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms)
  })
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer))
}

/** Closes a store (or client) without ever hanging a test, and without a timer left behind. */
async function closeQuietly(store) {
  if (!store) return
  const closing = (async () => {
    try {
      if (typeof store.close === 'function') await store.close()
      else if (typeof store.quit === 'function') await store.quit()
    } catch {}
  })()
  await within(closing, 3000)
}

/** Records every `connect` / `disconnect` event of an emitter with its time and error. */
function recordEvents(emitter, names = ['connect', 'disconnect']) {
  const events = []
  for (const name of names) {
    emitter.on(name, (err) => events.push({ name, at: Date.now(), err: describeError(err) }))
  }
  return events
}

/** Parses CLIENT LIST output into objects (one per connection, fields as strings). */
function parseClientList(text) {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = {}
      for (const part of line.trim().split(' ')) {
        const eq = part.indexOf('=')
        if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1)
      }
      return fields
    })
}

/**
 * The store's connections on a redis-server: by `lib-name=connect-redis-rs` (Redis 7.2+, set
 * with CLIENT SETINFO) or `name=connect-redis-rs`; on a server that shows neither (Redis 7.0
 * has no CLIENT SETINFO), every connection except the redis-cli asking (`cmd=client|list`).
 * Use the fallback only on a server dedicated to the test. Resolves { clients, by }.
 */
/**
 * A native client to one server keeps two connections: the main-thread one (RESP2) that
 * get/set/touch/destroy use, and the background one (RESP3) that supervises and runs the bulk
 * operations. This tells them apart in CLIENT LIST.
 */
const NATIVE_CONNECTIONS = 2
const connectionRole = (c) => (c.resp === '2' ? 'main-thread' : 'background')

async function storeConnections(r) {
  const clients = parseClientList(await r.cli('CLIENT', 'LIST'))
  const named = clients.filter((c) => c['lib-name'] === 'connect-redis-rs' || c.name === 'connect-redis-rs')
  if (named.length > 0) return { clients: named, by: 'name', all: clients }
  const others = clients.filter((c) => c.cmd !== 'client|list')
  return { clients: others, by: 'elimination (no name or lib-name=connect-redis-rs in CLIENT LIST)', all: clients }
}

/** Resolves once something accepts TCP connections on host:port (or rejects after timeoutMs). */
async function waitListening(host, port, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = net.connect({ host, port })
      sock.once('connect', () => {
        sock.destroy()
        resolve(true)
      })
      sock.once('error', () => resolve(false))
    })
    if (ok) return Date.now()
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`)
    await sleep(5)
  }
}

const MB = 1024 * 1024
const mb = (bytes) => `${(bytes / MB).toFixed(1)} MB`

/** Counts of a list of records by a key function, as a plain object (for t.log / messages). */
function countBy(items, key) {
  const out = {}
  for (const item of items) {
    const k = key(item)
    out[k] = (out[k] || 0) + 1
  }
  return out
}

/**
 * Starts scripts/session-app.js (express + express-session + connect-redis-rs) in a child
 * process. Resolves { port, url, pid, stats(), stop() }; stats() asks the child for its
 * counters and memory (after a GC).
 */
async function startSessionApp(env) {
  const child = fork(path.join(__dirname, 'session-app.js'), [], {
    env: { ...process.env, ...env },
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`session-app exited with ${code}`)))
    child.on('message', (msg) => {
      if (msg && msg.type === 'listening') resolve(msg.port)
    })
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    exited,
    stats() {
      return new Promise((resolve) => {
        const on = (msg) => {
          if (msg && msg.type === 'stats') {
            child.removeListener('message', on)
            resolve(msg)
          }
        }
        child.on('message', on)
        child.send({ type: 'stats' })
      })
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: 'exit' })
        const done = await within(exited, 5000, () => null)
        if (!done) child.kill('SIGKILL')
      }
      return exited
    },
  }
}

/**
 * autocannon `requests` for one user's visit to session-app: each path in turn, with the
 * session cookie the app set kept in autocannon's per-connection context (reset when the
 * sequence starts over, i.e. a new user). `onAnswer(path, status, body)` sees every response.
 */
function journey(paths, onAnswer = () => {}) {
  return paths.map((p) => ({
    method: 'GET',
    path: p,
    setupRequest(req, context) {
      const headers = { ...(req.headers || {}) }
      if (context.cookie) headers.cookie = context.cookie
      else delete headers.cookie
      return { ...req, headers }
    },
    onResponse(status, body, context, headers) {
      for (const name of Object.keys(headers || {})) {
        if (name.toLowerCase() !== 'set-cookie') continue
        const v = headers[name]
        context.cookie = (Array.isArray(v) ? v : [v]).map((c) => String(c).split(';')[0]).join('; ')
      }
      onAnswer(p, status, body)
    },
  }))
}

module.exports = {
  sleep,
  describeError,
  timed,
  within,
  closeQuietly,
  recordEvents,
  parseClientList,
  storeConnections,
  NATIVE_CONNECTIONS,
  connectionRole,
  waitListening,
  MB,
  mb,
  countBy,
  startSessionApp,
  journey,
}
