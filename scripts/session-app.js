'use strict'
// An express + express-session application on connect-redis-rs's native connection, run as a
// child process by the outage and soak tests (__test__/outage-http.test.js, soak.test.js).
//
//   node --expose-gc scripts/session-app.js
//   env: REDIS_URL (required), PREFIX, COMMAND_TIMEOUT, CONNECT_TIMEOUT
//
// Over IPC it sends { type: 'listening', port } once, and answers { type: 'stats' } with
// { type: 'stats', rss, heapUsed, requests, statuses, errors (500 answers by code), lateErrors
// (store errors after the answer was sent), storeErrors (logErrors calls by code), maxLatencyMs,
// slow (requests over 500 ms), clientErrors (socket-level), warnings, events (connect /
// disconnect) }, after a full GC when started with --expose-gc so RSS samples are comparable.
// { type: 'exit' } closes the server and the store and exits.
//
// Routes (GET): /login (regenerate, store a user), /view (count a view), /read (read only:
// express-session touches), /logout (destroy), /anon (no session use), /count (store.length()).
// Without a session (the store is disconnected) a route that needs one answers 503
// { session: false }; an error (e.g. a store operation that failed) answers 500 { error: code }.

const express = require('express')
const session = require('express-session')
const { RedisStore } = require('..')

const warnings = []
process.on('warning', (w) => warnings.push({ at: Date.now(), warning: String((w && w.stack) || w).slice(0, 600) }))
const storeErrors = {}
const errors = {}
const statuses = {}
const events = []
let requests = 0
let maxLatencyMs = 0
const lateErrors = []
const slow = []

const store = new RedisStore({
  url: process.env.REDIS_URL,
  prefix: process.env.PREFIX || 'app:',
  commandTimeout: Number(process.env.COMMAND_TIMEOUT || 5000),
  connectTimeout: Number(process.env.CONNECT_TIMEOUT || 10000),
  logErrors: (err) => {
    storeErrors[err.code || err.name] = (storeErrors[err.code || err.name] || 0) + 1
  },
})
store.on('connect', () => events.push({ name: 'connect', at: Date.now() }))
store.on('disconnect', (err) => events.push({ name: 'disconnect', at: Date.now(), code: err && err.code }))

const app = express()
app.set('etag', false)
app.use((req, res, next) => {
  const start = process.hrtime.bigint()
  requests++
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (ms > maxLatencyMs) maxLatencyMs = ms
    if (ms > 500 && slow.length < 100) slow.push({ at: Date.now(), ms: Math.round(ms), path: req.path, status: res.statusCode })
    statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1
  })
  next()
})
const sessions = session({
  store,
  secret: 'soak secret',
  resave: false,
  saveUninitialized: false,
  cookie: { maxAge: 600000 },
})
// express-session reports a store error met while committing the session (save, touch or
// destroy at the end of the response) by calling next(err) after it has written the answer.
// When the request had already failed once (e.g. regenerate could not destroy the old session,
// the app answered 500, then saving the new session failed too), that late next(err) arrives
// past the app's error handler and express's final handler destroys the socket under the
// answer. Count such late errors (lateErrors) and leave the answer alone.
app.use((req, res, next) =>
  sessions(req, res, (err) => {
    if (err && res.headersSent) {
      lateErrors.push({ at: Date.now(), code: err.code || err.name, path: req.path })
      return
    }
    next(err)
  }),
)

const needSession = (req, res, next) => (req.session ? next() : res.status(503).json({ session: false }))

app.get('/login', needSession, (req, res, next) => {
  req.session.regenerate((err) => {
    if (err) return next(err)
    req.session.user = { name: `user-${Math.floor(Math.random() * 1e6)}`, roles: ['reader', 'writer'] }
    req.session.views = 0
    res.json({ sid: req.sessionID })
  })
})

app.get('/view', needSession, (req, res) => {
  req.session.views = (req.session.views || 0) + 1
  res.json({ sid: req.sessionID, views: req.session.views, user: req.session.user ? req.session.user.name : null })
})

app.get('/read', needSession, (req, res) => {
  res.json({ sid: req.sessionID, views: req.session.views || 0 })
})

app.get('/logout', needSession, (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.json({ loggedOut: true })))
})

app.get('/anon', (req, res) => res.json({ anon: true }))

app.get('/count', (req, res, next) => {
  store.length().then((n) => res.json({ sessions: n }), next)
})

// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  const code = (err && (err.code || err.name)) || 'unknown'
  if (res.headersSent) {
    lateErrors.push({ at: Date.now(), code, path: req.path })
    return
  }
  errors[code] = (errors[code] || 0) + 1
  res.status(500).json({ error: code })
})

const server = app.listen(0, '127.0.0.1', () => {
  process.send({ type: 'listening', port: server.address().port })
})
server.keepAliveTimeout = 60000
const clientErrors = []
server.on('connection', (socket) => {
  socket.on('error', (err) => clientErrors.push({ at: Date.now(), code: `socket ${err.code}`, message: String(err.message) }))
})
server.on('clientError', (err, socket) => {
  clientErrors.push({ at: Date.now(), code: err.code, message: String(err.message) })
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
  else socket.destroy()
})

process.on('message', (msg) => {
  if (msg && msg.type === 'stats') {
    if (typeof global.gc === 'function') global.gc()
    const mem = process.memoryUsage()
    process.send({
      type: 'stats',
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      requests,
      statuses,
      errors,
      lateErrors,
      storeErrors,
      maxLatencyMs,
      slow,
      clientErrors,
      warnings,
      events,
    })
  } else if (msg && msg.type === 'exit') {
    server.close()
    server.closeAllConnections()
    store.close().finally(() => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
