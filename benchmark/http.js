'use strict'
// End to end over HTTP, in two roles (each its own child process):
//   server: an express app with express-session (resave: false) on one store, holding `n`
//           sessions it stored itself; GET /read reads the session (express-session then
//           calls get + touch), GET /write changes it (get + set). GET /__stats (outside the
//           session middleware) reports main-thread busy time and how many requests found
//           no session (which would mean the cookies are wrong: a harness failure).
//   load:   autocannon against each route (first a warm-up of all routes mixed, then a timed run
//           per route), sending the `n` signed session cookies round-robin.

const http = require('node:http')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { childMain, runChild } = require('./proc')
const { sidFor, makeSession } = require('./sessions')

const SECRET = 'connect-redis-rs benchmark'
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
  await new Promise((resolve) => listener.close(resolve))
  listener.closeAllConnections && listener.closeAllConnections()
  await close()
  return { missing, requests }
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

/** Warms all routes together, then times each in turn between two /__stats snapshots of the server. */
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
  const hit = (routes, duration) =>
    autocannon({
      url: `http://127.0.0.1:${job.port}`,
      connections: job.connections,
      duration: Math.max(1, Math.round(duration)),
      requests: routes.map((route) => ({ method: 'GET', path: route, setupRequest })),
    })
  // Warm the server on every route at once before timing any (else the first pays the JIT alone).
  if (job.warmS > 0) await hit(job.routes, job.warmS)
  const results = []
  for (const route of job.routes) {
    const before = await serverStats(job.port)
    const result = await hit([route], job.durationS)
    const after = await serverStats(job.port)
    results.push({
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

const ROUTES = ['/read', '/write']

/**
 * For each round and store (rotating): a server child on `serverCpu` (Redis pinned beside it on
 * `redisCpu`), loaded by an autocannon child on `loadCpu`, one route after the other.
 */
async function runHttp(redis, config, { log, fail, serverCpu, loadCpu, redisCpu }) {
  const rows = []
  const stores = config.httpStores
  const { sessions, connections, warmS, durationS } = config.http
  redis.pinTo(redisCpu)
  let turn = 0
  for (let round = 1; round <= config.http.rounds; round++) {
    turn++
    const line = []
    for (const store of stores.map((_, k) => stores[(k + turn) % stores.length])) {
      const serve = async (what, { port }) => {
        const routes = round % 2 ? ROUTES : [...ROUTES].reverse()
        const job = { role: 'load', port, routes, n: sessions, connections, warmS, durationS }
        for (const r of await runChild(__filename, job, { cpu: loadCpu, timeoutMs: 60000 + 4000 * (warmS + durationS) })) {
          const row = { round, store, ...r }
          rows.push(row)
          line.push(`${store} ${r.route} ${Math.round(r.reqPerSec)}/s`)
          if (r.non2xx || r.errors || r.timeouts || r.missing || !r.total) {
            fail(`http ${store} ${r.route}: ${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.missing} without their session`)
          }
        }
      }
      const job = { role: 'server', store, redisPort: redis.port, n: sessions, size: 200 }
      try {
        await runChild(__filename, job, { cpu: serverCpu, onAsk: serve, timeoutMs: 120000 + 8000 * (warmS + durationS) })
      } catch (err) {
        fail(`http ${store}: ${err.message}`)
      }
    }
    log(`[http r${round}] ${line.join(' | ')}`)
  }
  await redis.flush()
  return rows
}

if (require.main === module) childMain((job, ask) => (job.role === 'server' ? server(job, ask) : load(job)))

module.exports = { runHttp }
