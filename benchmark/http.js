'use strict'
// End to end over HTTP, in two roles (each its own child process):
//   server: an express app with express-session (resave: false) on one store, holding `n`
//           sessions it stored itself; GET /read reads the session (express-session then
//           calls get + touch), GET /write changes it (get + set). GET /__stats (outside the
//           session middleware) reports main-thread busy time and how many requests found
//           no session (which would mean the cookies are wrong: a harness failure).
//   load:   autocannon against every server (first a warm-up of each on all routes mixed, then
//           the timed windows of the schedule, one store and route each), sending the `n` signed
//           session cookies round-robin.
//
// Every store's server runs for the whole part, idle but in its own windows, so the rounds can
// be many short windows interleaved: the VM's speed drifts 30-40% over tens of seconds (one run
// with a server per store and round, 2 rounds of 5 s windows, had a store at 3,191 req/s in one
// round and 4,278 in the next), and a round's windows now lie seconds apart, not a minute.

const http = require('node:http')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { childMain, runChild } = require('./proc')
const { sidFor, makeSession } = require('./sessions')

const SECRET = 'connect-redis-rs benchmark'
// What express-session asks of the store per request on each route (resave: false, the session
// already stored): the one statement of it, for the report and the targets too.
const ROUTE_OPS = { '/read': ['get', 'touch'], '/write': ['get', 'set'] }
const ROUTES = Object.keys(ROUTE_OPS)
const COOKIE = 'connect.sid'

const sidOf = (i) => sidFor(`http-${i}`)

async function server(job, ask) {
  const express = require('express')
  const session = require('express-session')
  const { openStore } = require('./stores')
  const { store, close } = await openStore(job.store, { port: job.redisPort })

  // Store the sessions through the store itself, as express-session would have.
  const sess = makeSession(job.size)
  const put = (i) => new Promise((resolve, reject) => store.set(sidOf(i), sess, (err) => (err ? reject(err) : resolve())))
  for (let i = 0; i < job.n; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, job.n - i) }, (_, k) => put(i + k)))
  }

  let missing = 0
  let requests = 0
  const app = express()
  app.get('/__stats', (req, res) => {
    const elu = performance.eventLoopUtilization()
    res.json({ activeMs: elu.active, wallMs: elu.idle + elu.active, missing, requests })
  })
  app.use(
    session({ store, secret: SECRET, name: COOKIE, resave: false, saveUninitialized: false, cookie: { maxAge: 86400000 } }),
  )
  app.get('/read', (req, res) => {
    requests++
    if (req.session.views === undefined) missing++
    res.send(`views ${req.session.views}`)
  })
  app.get('/write', (req, res) => {
    requests++
    if (req.session.views === undefined) missing++
    req.session.views = (req.session.views || 0) + 1
    res.send(`views ${req.session.views}`)
  })
  const listener = await new Promise((resolve) => {
    const srv = app.listen(0, '127.0.0.1', () => resolve(srv))
  })
  // The parent runs its loads while this question is open, then answers it.
  await ask('serve', { port: listener.address().port })
  // http-profile.js: a CPU profile of the main thread while the parent runs one more load.
  const profile = job.profile ? await require('./cpu-profile').profileWhile(() => ask('profile')) : undefined
  await new Promise((resolve) => listener.close(resolve))
  listener.closeAllConnections && listener.closeAllConnections()
  await close()
  return { missing, requests, profile }
}

function serverStats(port) {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${port}/__stats`, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve(JSON.parse(body)))
      })
      .on('error', reject)
  })
}

/**
 * Warms each server on all routes together, then times each window of the schedule between two
 * /__stats snapshots of its server.
 */
async function load(job) {
  const autocannon = require('autocannon')
  const signature = require(require.resolve('cookie-signature', { paths: [path.dirname(require.resolve('express-session'))] }))
  const cookies = Array.from({ length: job.n }, (_, i) => `${COOKIE}=${encodeURIComponent(`s:${signature.sign(sidOf(i), SECRET)}`)}`)
  let next = 0
  const setupRequest = (req) => {
    req.headers = { ...req.headers, cookie: cookies[next++ % cookies.length] }
    return req
  }
  // autocannon runs for whole seconds (at least one).
  const hit = (port, routes, duration) =>
    autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: job.connections,
      duration: Math.max(1, Math.round(duration)),
      requests: routes.map((route) => ({ method: 'GET', path: route, setupRequest })),
    })
  // Warm the server on every route at once before timing any (else the first pays the JIT alone).
  if (job.warmS > 0) for (const { port } of job.servers) await hit(port, ROUTES, job.warmS)
  const results = []
  for (const { round, store, route } of job.schedule) {
    const { port } = job.servers.find((s) => s.store === store)
    const before = await serverStats(port)
    const result = await hit(port, [route], job.durationS)
    const after = await serverStats(port)
    results.push({
      round,
      store,
      route,
      total: result.requests.total,
      reqPerSec: result.requests.total / result.duration,
      p50Us: result.latency.p50 * 1000,
      p99Us: result.latency.p99 * 1000,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      // Main-thread busy time of the server per request, and requests that found no session.
      busyUsPerReq: ((after.activeMs - before.activeMs) * 1000) / result.requests.total,
      serverElu: (after.activeMs - before.activeMs) / (after.wallMs - before.wallMs),
      missing: after.missing - before.missing,
    })
  }
  return results
}

// ---- parent side -------------------------------------------------------------------------

/**
 * Starts every store's server on `serverCpu` (Redis pinned beside it on `redisCpu`), then one
 * autocannon child on `loadCpu` that runs the rounds: in each, every store (in rotating order)
 * on both routes (in alternating order), one window each.
 */
async function runHttp(redis, config, { log, fail, serverCpu, loadCpu, redisCpu }) {
  const { sessions, connections, warmS, durationS, rounds } = config.http
  redis.pinTo(redisCpu)
  const stores = config.httpStores
  const schedule = []
  for (let round = 1; round <= rounds; round++) {
    const routes = round % 2 ? ROUTES : [...ROUTES].reverse()
    for (const store of stores.map((_, k) => stores[(k + round) % stores.length])) {
      for (const route of routes) schedule.push({ round, store, route })
    }
  }
  const loadS = stores.length * warmS + schedule.length * (durationS + 1)
  const servers = []
  let rows = []
  try {
    for (const store of stores) {
      const server = await startServer({ role: 'server', store, redisPort: redis.port, n: sessions, size: 200 }, serverCpu, 120000 + 3000 * loadS)
      if (server.error) fail(`http ${store}: ${server.error.message}`)
      else servers.push(server)
    }
    const up = servers.map((s) => s.store)
    const job = { role: 'load', servers: servers.map(({ store, port }) => ({ store, port })), schedule: schedule.filter((w) => up.includes(w.store)), n: sessions, connections, warmS, durationS }
    rows = await runChild(__filename, job, { cpu: loadCpu, timeoutMs: 60000 + 2000 * loadS }).catch((err) => {
      fail(`http load: ${err.message}`)
      return []
    })
  } finally {
    for (const server of servers) server.release()
    for (const server of servers) {
      await server.exited.catch((err) => fail(`http ${server.store}: ${err.message}`))
    }
  }
  for (const r of rows) {
    if (r.non2xx || r.errors || r.timeouts || r.missing || !r.total) {
      fail(`http ${r.store} ${r.route}: ${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.missing} without their session`)
    }
  }
  for (let round = 1; round <= rounds; round++) {
    log(`[http r${round}] ${rows.filter((r) => r.round === round).map((r) => `${r.store} ${r.route} ${Math.round(r.reqPerSec)}/s`).join(' | ')}`)
  }
  await redis.flush()
  return rows
}

/**
 * Starts one server child; resolves once it listens, with its port, `release` (lets it close) and
 * `exited` (its end), or with `error` if it ended before listening.
 */
function startServer(job, cpu, timeoutMs) {
  return new Promise((resolve) => {
    let release
    const released = new Promise((r) => (release = r))
    const exited = runChild(__filename, job, {
      cpu,
      timeoutMs,
      onAsk: (what, { port }) => {
        resolve({ store: job.store, port, release, exited })
        return released
      },
    })
    exited.catch((error) => resolve({ store: job.store, error }))
  })
}

if (require.main === module) childMain((job, ask) => (job.role === 'server' ? server(job, ask) : load(job)))

module.exports = { runHttp, ROUTE_OPS }
