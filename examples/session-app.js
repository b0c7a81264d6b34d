'use strict'
// What the examples share: the express 5 app with its routes, listening on PORT (default 3000),
// and the graceful shutdown on SIGINT / SIGTERM. Each example (app.js, cluster-app.js,
// sentinel-app.js) only picks and starts its topology, then calls startApp().
//
//   startApp({ storeOptions, describe, routes, onClose })
//     storeOptions      options of the RedisStore (logErrors is on)
//     describe(store)   the line printed on each 'connect' event (default 'redis connected')
//     routes(app, store) adds the example's own routes before the server listens
//     onClose()         stops what the example started (its throwaway topology) on shutdown
//
//   curl -c jar -b jar localhost:3000/            -> { views: 1 }, then 2, 3...
//   curl -c jar -b jar -X POST 'localhost:3000/login?user=alice'
//   curl -c jar -b jar localhost:3000/whoami      -> { user: 'alice' }
//   curl -c jar -b jar -X POST localhost:3000/logout

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const express = require('express')
const session = require('express-session')

// Installed package first; from a checkout of the repo, the repo itself.
function loadStore() {
  try {
    return require('connect-redis-rs')
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'connect-redis-rs'")) throw err
    return require('..')
  }
}

/**
 * A launcher from the repo's scripts/ (redis-server.js, redis-cluster.js, redis-sentinel.js); a
 * copy of the examples may carry it alongside. `missing` says which setting would make it unneeded.
 */
function loadLauncher(file, missing) {
  const candidates = [path.join(__dirname, file), path.join(__dirname, '..', 'scripts', file)]
  const found = candidates.find((candidate) => fs.existsSync(candidate))
  if (!found) throw new Error(`${missing} is not set and no ${file} launcher was found`)
  return require(found)
}

function createApp(store) {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(
    session({
      store,
      secret: process.env.SESSION_SECRET || 'keyboard cat',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 24 * 60 * 60 * 1000 },
    }),
  )

  // express-session skips the session while the store is disconnected.
  app.use((req, res, next) => {
    if (!req.session) return res.status(503).json({ error: 'session store unavailable' })
    next()
  })

  app.get('/', (req, res) => {
    req.session.views = (req.session.views || 0) + 1
    res.json({ views: req.session.views })
  })

  app.post('/login', (req, res, next) => {
    const user = (req.body && req.body.user) || req.query.user || 'guest'
    // A new id on login prevents session fixation.
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = user
      req.session.save((err) => (err ? next(err) : res.json({ user })))
    })
  })

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err)
      res.clearCookie('connect.sid')
      res.json({ loggedOut: true })
    })
  })

  app.get('/whoami', (req, res) => {
    res.json({ user: req.session.user || null })
  })

  return app
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, () => resolve(server.address().port))
  })
}

async function startApp({ storeOptions, describe = () => 'redis connected', routes, onClose }) {
  const { RedisStore } = loadStore()
  // logErrors prints connection losses and failed commands; requests get a 503 meanwhile.
  const store = new RedisStore({ ...storeOptions, logErrors: true })
  store.on('connect', () => console.log(describe(store)))

  const app = createApp(store)
  if (routes) routes(app, store)
  const server = http.createServer(app)
  const port = await listen(server, process.env.PORT === undefined ? 3000 : Number(process.env.PORT))
  console.log(`listening on http://localhost:${port}`)

  let stopping = false
  async function shutdown(signal) {
    if (stopping) return
    stopping = true
    console.log(`${signal}: shutting down`)
    server.close()
    server.closeAllConnections()
    await store.close().catch((err) => console.error(`closing the store: ${err.message}`))
    if (onClose) await onClose()
    process.exit(0)
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  return { app, server, store, port }
}

/** Runs an example's main() when the example is the program, exiting 1 on a startup error. */
function runMain(mod, main) {
  if (require.main !== mod) return
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

/** 'host:port,host:port' -> [{ host, port }] (host defaults to 127.0.0.1). */
function parseHostPort(s) {
  const i = s.lastIndexOf(':')
  return { host: s.slice(0, i) || '127.0.0.1', port: Number(s.slice(i + 1)) }
}

/** Splits a comma-separated list, trimming entries and dropping empty ones. */
function splitList(list) {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

module.exports = { startApp, createApp, loadLauncher, runMain, parseHostPort, splitList }
