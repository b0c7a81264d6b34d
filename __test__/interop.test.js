'use strict'
// Sessions written by connect-redis (10.x with node-redis 5, 3.x with node_redis 2.8) are read by
// connect-redis-rs and the other way round: same key, same value, same TTL.

const crypto = require('node:crypto')
const test = require('ava')
const session = require('express-session')
const { startRedis } = require('../scripts/redis-server')
const connectRedis = require('..')
const { RedisStore: RedisStore10 } = require('connect-redis-10')
const { createClient: createClient5 } = require('redis-5')
const connectRedis3 = require('connect-redis-3')

let redis

test.before(async () => {
  redis = await startRedis()
})

test.after.always(async () => {
  if (redis) await redis.close()
})

/** Runs a node-style callback method as a Promise (connect-redis 3 has no Promise API). */
function call(store, method, ...args) {
  return new Promise((resolve, reject) => {
    store[method](...args, (err, value) => (err ? reject(err) : resolve(value)))
  })
}

/**
 * Each flavour gives two stores on the same server with the default prefix:
 * `theirs` (connect-redis) and `ours` (connect-redis-rs in the matching API form),
 * both exposing async get/set/touch/destroy.
 */
const flavours = {
  'connect-redis 10': async (t) => {
    const client = createClient5({ url: redis.url })
    await client.connect()
    const theirs = new RedisStore10({ client })
    const ours = new connectRedis.RedisStore({ url: redis.url })
    t.teardown(async () => {
      await client.close()
      await ours.close()
    })
    return { theirs, ours }
  },
  'connect-redis 3': async (t) => {
    const RedisStore3 = connectRedis3(session)
    const legacy = new RedisStore3({ host: redis.host, port: redis.port })
    const RedisStoreRs = connectRedis(session)
    const ours = new RedisStoreRs({ host: redis.host, port: redis.port })
    t.teardown(async () => {
      await new Promise((resolve) => legacy.client.quit(resolve))
      await ours.close()
    })
    const theirs = {
      get: (sid) => call(legacy, 'get', sid),
      set: (sid, sess) => call(legacy, 'set', sid, sess),
      touch: (sid, sess) => call(legacy, 'touch', sid, sess),
      destroy: (sid) => call(legacy, 'destroy', sid),
    }
    return { theirs, ours }
  },
}

function newSid() {
  return crypto.randomBytes(18).toString('base64url')
}

/** A session as express-session hands it to a store: a real Cookie, so maxAge is a live getter. */
function makeSession(cookieOptions, data = {}) {
  return { cookie: new session.Cookie(cookieOptions), user: 'alice', cart: [1, 2, 3], nested: { ok: true }, ...data }
}

/** What any store reading the stored JSON back must return. */
function roundTripped(sess) {
  return JSON.parse(JSON.stringify(sess))
}

async function ttl(sid) {
  return Number(await redis.cli('TTL', `sess:${sid}`))
}

for (const [name, setup] of Object.entries(flavours)) {
  test(`${name}: a session it writes is read by connect-redis-rs`, async (t) => {
    const { theirs, ours } = await setup(t)
    const sid = newSid()
    const sess = makeSession({ maxAge: 3600 * 1000 })

    await theirs.set(sid, sess)
    const raw = await redis.cli('GET', `sess:${sid}`)
    t.is(raw, JSON.stringify(sess))
    t.deepEqual(await ours.get(sid), roundTripped(sess))
  })

  test(`${name}: a session connect-redis-rs writes is read by it`, async (t) => {
    const { theirs, ours } = await setup(t)
    const sid = newSid()
    const sess = makeSession({ maxAge: 3600 * 1000 }, { user: 'bob' })

    await ours.set(sid, sess)
    const raw = await redis.cli('GET', `sess:${sid}`)
    t.is(raw, JSON.stringify(sess))
    t.deepEqual(await theirs.get(sid), roundTripped(sess))
  })

  test(`${name}: both write the same key with the same value`, async (t) => {
    const { theirs, ours } = await setup(t)
    const sid = newSid()
    const sess = makeSession({ maxAge: 3600 * 1000 })

    await theirs.set(sid, sess)
    const theirRaw = await redis.cli('GET', `sess:${sid}`)
    t.is(await redis.cli('DEL', `sess:${sid}`), '1')
    await ours.set(sid, sess)
    t.is(await redis.cli('GET', `sess:${sid}`), theirRaw)
  })

  test(`${name}: set and touch give the same TTL`, async (t) => {
    const { theirs, ours } = await setup(t)
    const theirSid = newSid()
    const ourSid = newSid()

    // A persistent cookie: the TTL follows its maxAge.
    const sess = makeSession({ maxAge: 3600 * 1000 })
    await Promise.all([theirs.set(theirSid, sess), ours.set(ourSid, sess)])
    const [theirTtl, ourTtl] = [await ttl(theirSid), await ttl(ourSid)]
    t.true(Math.abs(theirTtl - ourTtl) <= 1, `set: theirs ${theirTtl}s, ours ${ourTtl}s`)
    t.true(ourTtl >= 3598 && ourTtl <= 3600, `set: ours ${ourTtl}s`)

    // touch with a longer cookie moves both expiries the same way.
    const longer = makeSession({ maxAge: 7200 * 1000 })
    await Promise.all([theirs.touch(theirSid, longer), ours.touch(ourSid, longer)])
    const [theirTouched, ourTouched] = [await ttl(theirSid), await ttl(ourSid)]
    t.true(Math.abs(theirTouched - ourTouched) <= 1, `touch: theirs ${theirTouched}s, ours ${ourTouched}s`)
    t.true(ourTouched >= 7198 && ourTouched <= 7200, `touch: ours ${ourTouched}s`)
  })

  test(`${name}: a browser-session cookie (no maxAge) gets the same one-day TTL`, async (t) => {
    const { theirs, ours } = await setup(t)
    const theirSid = newSid()
    const ourSid = newSid()
    const sess = makeSession({})

    await Promise.all([theirs.set(theirSid, sess), ours.set(ourSid, sess)])
    const [theirTtl, ourTtl] = [await ttl(theirSid), await ttl(ourSid)]
    t.true(Math.abs(theirTtl - ourTtl) <= 1, `theirs ${theirTtl}s, ours ${ourTtl}s`)
    t.true(ourTtl >= 86398 && ourTtl <= 86400, `ours ${ourTtl}s`)
  })

  test(`${name}: a session it writes is destroyed by connect-redis-rs and the other way round`, async (t) => {
    const { theirs, ours } = await setup(t)
    const [a, b] = [newSid(), newSid()]
    const sess = makeSession({ maxAge: 60 * 1000 })

    await theirs.set(a, sess)
    await ours.destroy(a)
    t.is(await redis.cli('EXISTS', `sess:${a}`), '0')
    t.is(await ours.get(a), null)

    await ours.set(b, sess)
    await theirs.destroy(b)
    t.is(await redis.cli('EXISTS', `sess:${b}`), '0')
    t.falsy(await theirs.get(b))
  })
}
