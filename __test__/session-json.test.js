'use strict'
// The store writes a session as JSON.stringify(session) does, byte for byte (lib/session-json.js
// only skips V8's Date formatting): for sessions as express-session makes them and for every
// shape it does not recognise, and in Redis as connect-redis would have stored them.

const crypto = require('node:crypto')
const test = require('ava')
const session = require('express-session')
const { startRedis } = require('../scripts/redis-server')
const connectRedis = require('..')
const { stringifySession } = require('../lib/session-json')

const HOUR = 3600 * 1000

/** A session as express-session hands it to a store (a Session holding a real Cookie). */
function expressSession(cookieOptions, data = {}) {
  const req = { sessionID: 'sid' }
  return new session.Session(req, { cookie: new session.Cookie(cookieOptions), ...data })
}

function withExpires(expires, data) {
  const sess = expressSession({ maxAge: HOUR }, data)
  sess.cookie.expires = expires
  return sess
}

const cases = {
  'an express-session session': () => expressSession({ maxAge: HOUR }, { user: 'alice', views: 3, cart: [{ sku: 'A-1', qty: 2 }] }),
  'a browser-session cookie (expires null)': () => expressSession({}, { user: 'bob' }),
  'every cookie option set': () =>
    expressSession({ maxAge: HOUR, secure: true, httpOnly: false, domain: 'example.com', path: '/app', sameSite: 'strict', priority: 'high', partitioned: true }),
  'strings that need escaping and non-ASCII text': () =>
    expressSession({ maxAge: HOUR }, { quote: 'say "hi"\\ \n\t\u0001', text: 'héllo 😀 \u2028', lone: '\ud800x' }),
  'other Dates elsewhere in the session': () => expressSession({ maxAge: HOUR }, { seen: new Date(0), nested: { at: new Date(Date.UTC(2001, 0, 1)) } }),
  'an invalid expires Date': () => withExpires(new Date(NaN)),
  'expires in year 0': () => withExpires(new Date('0000-01-01T00:00:00.000Z')),
  'expires at the last millisecond of 1969': () => withExpires(new Date(-1)),
  'expires on 2000-02-29': () => withExpires(new Date(Date.UTC(2000, 1, 29, 23, 59, 59, 999))),
  'expires at the last millisecond of 9999': () => withExpires(new Date(253402300799999)),
  'expires in year 10000 (six-digit year)': () => withExpires(new Date(253402300800000)),
  'expires before year 0 (negative year)': () => withExpires(new Date(-62198755200000)),
  'expires that is a Date subclass': () => withExpires(new (class Later extends Date {})(Date.UTC(2030, 5, 1))),
  'expires with its own toJSON': () => {
    const when = new Date(Date.UTC(2030, 5, 1))
    when.toJSON = () => 'custom'
    return withExpires(when)
  },
  'expires as an ISO string (not a Date)': () => withExpires('2030-06-01T00:00:00.000Z'),
  'the cookie in the middle of the keys, integer-like keys': () => ({ b: 1, cookie: new session.Cookie({ maxAge: HOUR }), 2: 'two', a: [null], 0: true }),
  'a plain cookie object without toJSON': () => ({ cookie: { expires: new Date(Date.UTC(2030, 0, 1)), path: '/' }, user: 'x' }),
  'no cookie at all': () => ({ user: 'x', when: new Date(5) }),
  'a cookie that is not enumerable': () => {
    const sess = { user: 'x' }
    Object.defineProperty(sess, 'cookie', { value: new session.Cookie({ maxAge: HOUR }), enumerable: false })
    return sess
  },
  'a cookie inherited from the prototype': () => Object.assign(Object.create({ cookie: new session.Cookie({ maxAge: HOUR }) }), { user: 'x' }),
  'a cookie behind a getter': () => ({
    get cookie() {
      return new session.Cookie({ maxAge: HOUR })
    },
    user: 'x',
  }),
  'a cookie whose toJSON returns a string': () => ({ cookie: { toJSON: (key) => `cookie:${key}` } }),
  'a cookie whose toJSON returns undefined': () => ({ cookie: { toJSON: () => undefined }, user: 'x' }),
  'a cookie whose toJSON returns an array': () => ({ cookie: { toJSON: () => [1, new Date(7)] } }),
  'a cookie whose toJSON returns an object with its own toJSON': () => ({ cookie: { toJSON: () => ({ toJSON: () => 'inner', expires: new Date(9) }) } }),
  'a cookie whose toJSON returns a class instance': () => ({ cookie: { toJSON: () => new (class Data { constructor() { this.expires = new Date(11) } })() } }),
  'expires inherited by the cookie JSON': () => ({ cookie: { toJSON: () => Object.assign(Object.create({ expires: new Date(3) }), { path: '/' }) } }),
  'a session with its own toJSON': () => ({ cookie: new session.Cookie({ maxAge: HOUR }), toJSON: () => ({ replaced: true }) }),
  'an array': () => [new session.Cookie({ maxAge: HOUR })],
  'null': () => null,
}

for (const [name, make] of Object.entries(cases)) {
  test(`same bytes as JSON.stringify: ${name}`, (t) => {
    const sess = make()
    t.is(stringifySession(sess), JSON.stringify(sess))
  })
}

test('same bytes as JSON.stringify for expires at 20,000 random times from year -271821 to 275760', (t) => {
  const sess = expressSession({ maxAge: HOUR }, { user: 'alice' })
  const mismatches = []
  for (let i = 0; i < 20000; i++) {
    sess.cookie.expires = new Date(Math.round((Math.random() * 2 - 1) * 8.64e15))
    const ours = stringifySession(sess)
    const theirs = JSON.stringify(sess)
    if (ours !== theirs) mismatches.push({ ours, theirs })
  }
  t.deepEqual(mismatches.slice(0, 3), [])
})

test('same bytes as JSON.stringify for expires one after another within and across seconds, days and 1970', (t) => {
  // The text up to the milliseconds is kept from one session to the next while the second is the
  // same: every step here either stays in it, moves to the next one or goes back.
  const sess = expressSession({ maxAge: HOUR }, { user: 'alice' })
  const starts = [-2000, Date.UTC(2026, 11, 31, 23, 59, 58), Date.UTC(2000, 1, 28, 23, 59, 59), 253402300797000]
  const mismatches = []
  for (const start of starts) {
    for (const ms of [0, 1, 998, 999, 1000, 1001, 999, 1999, 2000, 2999, 3000, 0].map((d) => start + d)) {
      sess.cookie.expires = new Date(ms)
      const ours = stringifySession(sess)
      const theirs = JSON.stringify(sess)
      if (ours !== theirs) mismatches.push({ ms, ours, theirs })
    }
  }
  t.deepEqual(mismatches, [])
})

test('a Date.prototype.toJSON patched after loading is still the one that runs', (t) => {
  const original = Date.prototype.toJSON
  Date.prototype.toJSON = function patched() {
    return `at ${this.getTime()}`
  }
  try {
    const sess = expressSession({ maxAge: HOUR })
    t.is(stringifySession(sess), JSON.stringify(sess))
    t.true(stringifySession(sess).includes('"expires":"at '))
  } finally {
    Date.prototype.toJSON = original
  }
})

test('a cookie or an expires that only Object.prototype has is not written', (t) => {
  const sess = { user: 'x' }
  const cookieJSONWithoutExpires = { cookie: { toJSON: () => ({ path: '/' }) } }
  Object.prototype.cookie = new session.Cookie({ maxAge: HOUR })
  Object.prototype.expires = new Date(HOUR)
  try {
    t.is(stringifySession(sess), JSON.stringify(sess))
    t.is(stringifySession(cookieJSONWithoutExpires), JSON.stringify(cookieJSONWithoutExpires))
  } finally {
    delete Object.prototype.cookie
    delete Object.prototype.expires
  }
})

test('each property of the session is read once, as JSON.stringify reads it', (t) => {
  for (const withCookie of [true, false]) {
    let reads = 0
    const sess = {
      get counted() {
        reads++
        return reads
      },
    }
    if (withCookie) sess.cookie = new session.Cookie({ maxAge: HOUR })
    const ours = stringifySession(sess)
    t.is(reads, 1, withCookie ? 'with a cookie' : 'without one')
    reads = 0
    t.is(ours, JSON.stringify(sess))
  }
})

test('a session JSON.stringify cannot write fails with the error JSON.stringify gives', (t) => {
  const circular = expressSession({ maxAge: HOUR })
  circular.self = circular
  const bigint = expressSession({ maxAge: HOUR }, { n: 10n })
  const throwing = { cookie: { toJSON: () => { throw new Error('no cookie today') } } }
  for (const sess of [circular, bigint, throwing]) {
    const expected = t.throws(() => JSON.stringify(sess))
    const actual = t.throws(() => stringifySession(sess))
    t.is(actual.constructor, expected.constructor)
    t.is(actual.message, expected.message)
  }
})

test('in Redis, both API forms store exactly JSON.stringify(session)', async (t) => {
  const redis = await startRedis()
  const ClassStore = connectRedis.RedisStore
  const FactoryStore = connectRedis(session)
  const stores = [new ClassStore({ url: redis.url }), new FactoryStore({ host: redis.host, port: redis.port })]
  t.teardown(async () => {
    for (const store of stores) await store.close()
    await redis.close()
  })
  // Sessions that have not expired (an expired one is deleted, not written).
  const asciiCases = ['an express-session session', 'every cookie option set', 'expires in year 10000 (six-digit year)', 'the cookie in the middle of the keys, integer-like keys']
  for (const store of stores) {
    for (const name of asciiCases) {
      const sess = cases[name]()
      const sid = crypto.randomBytes(12).toString('base64url')
      await store.set(sid, sess)
      t.is(await redis.cli('GET', `sess:${sid}`), JSON.stringify(sess), name)
    }
  }
})
