'use strict'
// express-session + connect-redis-rs driven over real HTTP against a real redis-server.

const http = require('node:http')
const { once } = require('node:events')
const test = require('ava')
const express = require('express')
const session = require('express-session')
const { startRedis, sleep } = require('../scripts/redis-server')
const connectRedis = require('..')

const { RedisStore } = connectRedis
const FETCH_TIMEOUT_MS = 5000

let redis
let prefixCounter = 0

test.before(async () => {
  redis = await startRedis()
})

test.after.always(async () => {
  if (redis) await redis.close()
})

/** A cookie jar for one client: keeps name=value pairs and drops cookies whose Expires passed. */
function cookieJar() {
  const cookies = new Map()
  return {
    header() {
      const now = Date.now()
      const live = []
      for (const [name, { value, expires }] of cookies) {
        if (expires === undefined || expires > now) live.push(`${name}=${value}`)
      }
      return live.join('; ')
    },
    update(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair, ...attributes] = line.split(';').map((part) => part.trim())
        const eq = pair.indexOf('=')
        const name = pair.slice(0, eq)
        let expires
        for (const attribute of attributes) {
          const [key, value] = attribute.split('=')
          if (key.toLowerCase() === 'expires') expires = Date.parse(value)
        }
        if (expires !== undefined && expires <= Date.now()) cookies.delete(name)
        else cookies.set(name, { value: pair.slice(eq + 1), expires })
      }
    },
    has(name) {
      return cookies.has(name)
    },
    /** Keeps the cookie but forgets its expiry, as a client that ignores Expires would. */
    ignoreExpiry() {
      for (const cookie of cookies.values()) cookie.expires = undefined
    },
  }
}

function createStore(form, options) {
  if (form === 'factory') {
    const FactoryStore = connectRedis(session)
    return new FactoryStore(options)
  }
  return new RedisStore(options)
}

/**
 * Starts an express app on an ephemeral port with its own store and key prefix.
 * Routes answer JSON that includes the session id the request ended with.
 */
async function startApp(t, { form = 'class', storeOptions = {}, sessionOptions = {} } = {}) {
  const prefix = `express${++prefixCounter}:`
  const store = createStore(form, { url: redis.url, prefix, ...storeOptions })
  const app = express()
  app.use(
    session({
      store,
      secret: 'express-test',
      resave: false,
      saveUninitialized: false,
      ...sessionOptions,
    }),
  )
  app.use((req, res, next) => {
    if (!req.session) return res.status(503).json({ session: false })
    next()
  })
  app.get('/write', (req, res) => {
    req.session.value = req.query.value
    req.session.views = (req.session.views || 0) + 1
    res.json({ sid: req.sessionID, views: req.session.views })
  })
  app.get('/read', (req, res) => {
    res.json({ sid: req.sessionID, value: req.session.value ?? null, views: req.session.views ?? 0 })
  })
  app.post('/login', (req, res, next) => {
    const oldSid = req.sessionID
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = req.query.user
      req.session.save((err) => (err ? next(err) : res.json({ oldSid, sid: req.sessionID })))
    })
  })
  app.post('/logout', (req, res, next) => {
    const sid = req.sessionID
    req.session.destroy((err) => (err ? next(err) : res.json({ sid })))
  })
  app.get('/whoami', (req, res) => {
    res.json({ sid: req.sessionID, user: req.session.user ?? null })
  })

  const server = http.createServer(app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${server.address().port}`

  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await store.close()
  })

  const jar = cookieJar()
  async function request(path, { method = 'GET', cookies = jar } = {}) {
    const response = await fetch(base + path, {
      method,
      headers: { cookie: cookies.header() },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    })
    cookies.update(response)
    return { status: response.status, body: await response.json(), response }
  }

  return { store, prefix, jar, request, key: (sid) => prefix + sid }
}

async function pttl(key) {
  return Number(await redis.cli('PTTL', key))
}

async function exists(key) {
  return Number(await redis.cli('EXISTS', key))
}

async function waitForEvent(emitter, name, ms = 15000) {
  try {
    return await once(emitter, name, { signal: AbortSignal.timeout(ms) })
  } catch (err) {
    if (err.name !== 'AbortError') throw err
    throw new Error(`the store did not emit '${name}' within ${ms} ms`)
  }
}

for (const form of ['class', 'factory']) {
  test.serial(`${form} form: a value written in one request is read in the next`, async (t) => {
    const app = await startApp(t, { form })

    const first = await app.request('/write?value=hello')
    t.is(first.status, 200)
    t.is(first.body.views, 1)
    t.true(app.jar.has('connect.sid'))

    const stored = JSON.parse(await redis.cli('GET', app.key(first.body.sid)))
    t.is(stored.value, 'hello')

    const second = await app.request('/read')
    t.is(second.status, 200)
    t.is(second.body.sid, first.body.sid)
    t.is(second.body.value, 'hello')
    t.is(second.body.views, 1)
  })
}

test.serial('regenerate removes the old key and stores the new one', async (t) => {
  const app = await startApp(t)
  const { body: before } = await app.request('/write?value=anonymous')
  t.is(await exists(app.key(before.sid)), 1)

  const { body: login } = await app.request('/login?user=alice', { method: 'POST' })
  t.is(login.oldSid, before.sid)
  t.not(login.sid, before.sid)
  t.is(await exists(app.key(before.sid)), 0)
  t.is(JSON.parse(await redis.cli('GET', app.key(login.sid))).user, 'alice')

  const { body: me } = await app.request('/whoami')
  t.is(me.sid, login.sid)
  t.is(me.user, 'alice')
})

test.serial('destroy (logout) removes the key', async (t) => {
  const app = await startApp(t)
  const { body: login } = await app.request('/login?user=bob', { method: 'POST' })
  t.is(await exists(app.key(login.sid)), 1)

  const { status, body: logout } = await app.request('/logout', { method: 'POST' })
  t.is(status, 200)
  t.is(logout.sid, login.sid)
  t.is(await exists(app.key(login.sid)), 0)

  const { body: me } = await app.request('/whoami')
  t.is(me.user, null)
  t.not(me.sid, login.sid)
})

test.serial('rolling + resave:false: a read-only request resets the TTL through touch', async (t) => {
  const maxAge = 4000
  const app = await startApp(t, { sessionOptions: { rolling: true, cookie: { maxAge } } })
  const { body: written } = await app.request('/write?value=x')
  const key = app.key(written.sid)
  const valueBefore = await redis.cli('GET', key)
  const initial = await pttl(key)
  t.true(initial > 2000 && initial <= maxAge, `initial PTTL ${initial}`)

  await sleep(1500)
  const aged = await pttl(key)
  t.true(aged < initial - 1000, `PTTL ${aged} should have dropped from ${initial}`)

  const { body: read, response } = await app.request('/read')
  t.is(read.sid, written.sid)
  t.is(read.value, 'x')
  t.true(response.headers.getSetCookie().length > 0, 'rolling sends the cookie again')

  const refreshed = await pttl(key)
  t.true(refreshed > aged + 1000, `PTTL ${refreshed} should be back up from ${aged}`)
  // touch only moves the expiry: the stored value was not rewritten.
  t.is(await redis.cli('GET', key), valueBefore)
})

test.serial('a session whose key expired on the server starts a new session', async (t) => {
  const app = await startApp(t, { sessionOptions: { cookie: { maxAge: 1500 } } })
  const { body: first } = await app.request('/write?value=old')
  await sleep(2500)
  t.is(await exists(app.key(first.sid)), 0, 'Redis expired the key')

  // Send the old cookie anyway, as a client with a skewed clock would.
  app.jar.ignoreExpiry()
  const { body: read } = await app.request('/read')
  t.not(read.sid, first.sid)
  t.is(read.value, null)
  t.is(read.views, 0)

  const { body: again } = await app.request('/write?value=new')
  t.is(again.views, 1)
  t.is(await exists(app.key(again.sid)), 1)
})

test.serial('a cookie past its maxAge starts a new session even if the store keeps the key', async (t) => {
  const app = await startApp(t, { storeOptions: { ttl: 60 }, sessionOptions: { cookie: { maxAge: 1000 } } })
  const { body: first } = await app.request('/write?value=old')
  const ttl = Number(await redis.cli('TTL', app.key(first.sid)))
  t.true(ttl > 55 && ttl <= 60, `ttl option wins over cookie maxAge: TTL ${ttl}`)

  await sleep(1200)
  t.is(app.jar.header(), '', 'the client dropped the expired cookie')
  const { body: read } = await app.request('/write?value=new')
  t.not(read.sid, first.sid)
  t.is(read.views, 1)
  t.is(await exists(app.key(first.sid)), 1)
})

test.serial('while redis-server is down requests are answered without a session, and sessions resume after it restarts', async (t) => {
  t.timeout(60000)
  const app = await startApp(t, { storeOptions: { connectTimeout: 1000, commandTimeout: 2000 } })
  const { body: before } = await app.request('/write?value=before')
  t.is(before.views, 1)

  const disconnected = waitForEvent(app.store, 'disconnect')
  await redis.stop()
  await disconnected

  const started = Date.now()
  const down = await app.request('/read')
  t.is(down.status, 503)
  t.deepEqual(down.body, { session: false })
  t.true(Date.now() - started < FETCH_TIMEOUT_MS)

  const connected = waitForEvent(app.store, 'connect', 30000)
  await redis.start()
  await connected

  // The restarted server has no data: the old cookie leads to a fresh session.
  const first = await app.request('/write?value=after')
  t.is(first.status, 200)
  t.is(first.body.views, 1)
  const second = await app.request('/write?value=after')
  t.is(second.body.sid, first.body.sid)
  t.is(second.body.views, 2)
  t.is(await exists(app.key(second.body.sid)), 1)
})
