'use strict'
// The store under other session frameworks, over real HTTP against a real redis-server:
// @fastify/session (fastify + @fastify/cookie), which calls the callback Store API, and plain
// `connect` with express-session.

const http = require('node:http')
const { once } = require('node:events')
const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { factory, named, session } = require('./helpers/forms')
const { uid } = require('./helpers/redis')

const SECRET = 'a secret that is at least thirty-two characters long'

let redis

test.before(async () => {
  redis = await startRedis()
})

test.after.always(async () => {
  if (redis) await redis.close()
})

/** One browser: sends back the cookies it was given. */
function browser(base) {
  const jar = new Map()
  return async (path) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await fetch(base + path, { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) })
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim())
      const i = pair.indexOf('=')
      const expired = attrs.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now())
      if (expired) jar.delete(pair.slice(0, i))
      else jar.set(pair.slice(0, i), pair.slice(i + 1))
    }
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text(), jar }
  }
}

const stores = {
  'native client, factory form': (prefix) => new factory({ url: redis.url, prefix }),
  'native client, class form': (prefix) => new named({ url: redis.url, prefix }),
  'ioredis client, class form': (prefix) => {
    const Redis = require('ioredis')
    return new named({ client: new Redis(redis.port, redis.host), prefix })
  },
}

async function close(store) {
  await store.close()
  if (typeof store.client.quit === 'function' && store.client.status) await store.client.quit()
}

for (const [label, makeStore] of Object.entries(stores)) {
  test(`@fastify/session (${label}): a visit counter persists across requests in Redis, with the cookie's TTL, and logout deletes it`, async (t) => {
    const fastify = require('fastify')()
    const prefix = uid('fastify')
    const store = makeStore(prefix)
    fastify.register(require('@fastify/cookie'))
    fastify.register(require('@fastify/session'), {
      secret: SECRET,
      store,
      saveUninitialized: false,
      cookie: { secure: false, maxAge: 600_000 },
    })
    fastify.get('/count', async (req) => {
      req.session.set('n', (req.session.get('n') || 0) + 1)
      return { n: req.session.get('n'), id: req.session.sessionId }
    })
    fastify.get('/logout', async (req) => {
      await req.session.destroy()
      return { ok: true }
    })
    try {
      const base = await fastify.listen({ port: 0, host: '127.0.0.1' })
      const visit = browser(base)
      const first = await visit('/count')
      t.is(first.status, 200)
      t.is(first.body.n, 1)
      t.true(first.jar.has('sessionId'), 'the session cookie is set')
      const second = await visit('/count')
      t.deepEqual(second.body, { n: 2, id: first.body.id }, 'the session came back from the store')
      const stored = JSON.parse(await redis.cli('GET', `${prefix}${first.body.id}`))
      t.is(stored.n, 2, 'Redis holds prefix + sessionId with the session as JSON')
      const ttl = Number(await redis.cli('TTL', `${prefix}${first.body.id}`))
      t.true(ttl > 590 && ttl <= 600, `TTL from the cookie's maxAge: ${ttl}`)
      t.is((await visit('/count')).body.n, 3)
      t.deepEqual((await visit('/logout')).body, { ok: true })
      t.is(await redis.cli('EXISTS', `${prefix}${first.body.id}`), '0', 'destroy deleted the key')
      const fresh = await visit('/count')
      t.is(fresh.body.n, 1, 'a new session after logout')
      t.not(fresh.body.id, first.body.id)
    } finally {
      await fastify.close()
      await close(store)
    }
  })
}

test('connect + express-session (native client, factory form): a visit counter persists in Redis, and destroy deletes it', async (t) => {
  const connect = require('connect')
  const prefix = uid('connect')
  const store = new factory({ url: redis.url, prefix })
  const app = connect()
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: 600_000 } }))
  const json = (res, body) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(body))
  }
  app.use('/count', (req, res) => {
    req.session.n = (req.session.n || 0) + 1
    json(res, { n: req.session.n, id: req.sessionID })
  })
  app.use('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : json(res, { ok: true }))))
  const server = http.createServer(app).listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const visit = browser(`http://127.0.0.1:${server.address().port}`)
    const first = await visit('/count')
    t.is(first.body.n, 1)
    t.true(first.jar.has('connect.sid'))
    t.deepEqual((await visit('/count')).body, { n: 2, id: first.body.id })
    const stored = JSON.parse(await redis.cli('GET', `${prefix}${first.body.id}`))
    t.is(stored.n, 2)
    const ttl = Number(await redis.cli('TTL', `${prefix}${first.body.id}`))
    t.true(ttl > 590 && ttl <= 600, `TTL from the cookie's maxAge: ${ttl}`)
    t.deepEqual((await visit('/logout')).body, { ok: true })
    t.is(await redis.cli('EXISTS', `${prefix}${first.body.id}`), '0')
    t.is((await visit('/count')).body.n, 1, 'a new session after destroy')
  } finally {
    server.close()
    await close(store)
  }
})
