'use strict'
// A small express 5 app that keeps its sessions in Redis through connect-redis-rs.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node examples/app.js
//
// Without REDIS_URL it starts a throwaway redis-server on a free port and stops it on exit.
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
const { RedisStore } = loadStore()

// Installed package first; from a checkout of the repo, the repo itself.
function loadStore() {
  try {
    return require('connect-redis-rs')
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'connect-redis-rs'")) throw err
    return require('..')
  }
}

// The launcher lives in the repo's scripts/; a copy of the example may carry it alongside.
function loadLauncher() {
  const candidates = [path.join(__dirname, 'redis-server.js'), path.join(__dirname, '..', 'scripts', 'redis-server.js')]
  const found = candidates.find((file) => fs.existsSync(file))
  if (!found) throw new Error('REDIS_URL is not set and no redis-server.js launcher was found next to app.js')
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

async function main() {
  let redis
  let url = process.env.REDIS_URL
  if (!url) {
    redis = await loadLauncher().startRedis()
    url = redis.url
    console.log(`started redis-server on port ${redis.port} (pid ${redis.pid})`)
  }

  // logErrors prints connection losses and failed commands; requests get a 503 meanwhile.
  const store = new RedisStore({ url, logErrors: true })
  store.on('connect', () => console.log('redis connected'))

  const server = http.createServer(createApp(store))
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
    if (redis) await redis.close()
    process.exit(0)
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

module.exports = { createApp }
