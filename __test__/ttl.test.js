'use strict'
// The TTL rules of SPEC.md section 3, observed with TTL/PTTL on a real server, in both forms.

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { forms } = require('./helpers/forms')
const { uid, monitor, closeStore } = require('./helpers/redis')

let r
const stores = []

function make(Store, opts = {}) {
  const store = new Store({ host: r.host, port: r.port, ...opts })
  stores.push(store)
  return store
}

const ttlOf = async (key) => Number(await r.cli('TTL', key))
const pttlOf = async (key) => Number(await r.cli('PTTL', key))
const farCookie = () => ({
  originalMaxAge: 9000000,
  maxAge: 9000000,
  expires: new Date(Date.now() + 9000000).toISOString(),
  httpOnly: true,
  path: '/',
})

// Asserts a TTL in (expected - slack, expected].
function near(t, actual, expected, label, slack = 3) {
  t.true(actual > expected - slack && actual <= expected, `${label}: expected TTL ~${expected}, got ${actual}`)
}

test.before(async () => {
  r = await startRedis()
})

test.after.always(async () => {
  await Promise.all(stores.map(closeStore))
  if (r) await r.close()
})

for (const { name, Store } of forms) {
  test(`${name}: ttl number wins over the cookie, for set and touch`, async (t) => {
    const prefix = uid(`num-${name}`)
    const store = make(Store, { prefix, ttl: 100 })
    const s = { cookie: farCookie(), n: 1 }
    t.is(await store.set('a', s), 'OK')
    near(t, await ttlOf(`${prefix}a`), 100, 'set')
    await r.cli('EXPIRE', `${prefix}a`, '5')
    t.is(await store.touch('a', s), 1)
    near(t, await ttlOf(`${prefix}a`), 100, 'touch')
  })

  test(`${name}: ttl numeric string`, async (t) => {
    const prefix = uid(`str-${name}`)
    const store = make(Store, { prefix, ttl: '150' })
    t.is(await store.set('a', { cookie: farCookie() }), 'OK')
    near(t, await ttlOf(`${prefix}a`), 150, 'set')
    await r.cli('EXPIRE', `${prefix}a`, '5')
    t.is(await store.touch('a', { cookie: farCookie() }), 1)
    near(t, await ttlOf(`${prefix}a`), 150, 'touch')
  })

  test(`${name}: ttl function gets ${name === 'factory' ? '(store, sess, sid)' : '(sess)'}`, async (t) => {
    const prefix = uid(`fn-${name}`)
    const calls = []
    const store = make(Store, {
      prefix,
      ttl(...args) {
        calls.push(args)
        return 200
      },
    })
    const s = { cookie: farCookie(), user: 'bob' }
    t.is(await store.set('the-sid', s), 'OK')
    near(t, await ttlOf(`${prefix}the-sid`), 200, 'set')
    t.is(calls.length, 1, 'set calls ttl once')
    if (name === 'factory') {
      t.is(calls[0].length, 3, 'factory form: ttl(store, sess, sid)')
      t.is(calls[0][0], store)
      t.deepEqual(calls[0][1], s)
      t.is(calls[0][2], 'the-sid')
    } else {
      t.is(calls[0].length, 1, 'named form: ttl(sess)')
      t.deepEqual(calls[0][0], s)
    }

    await r.cli('EXPIRE', `${prefix}the-sid`, '5')
    t.is(await store.touch('the-sid', s), 1)
    near(t, await ttlOf(`${prefix}the-sid`), 200, 'touch')
    t.is(calls.length, 2, 'touch calls ttl once')
    if (name === 'factory') {
      t.is(calls[1][0], store)
      t.deepEqual(calls[1][1], s)
      t.is(calls[1][2], 'the-sid')
    } else {
      t.is(calls[1].length, 1)
      t.deepEqual(calls[1][0], s)
    }
  })

  for (const kind of ['Date', 'ISO string']) {
    test(`${name}: cookie.expires as ${kind}: ceil((expires - now) / 1000)`, async (t) => {
      const prefix = uid(`exp-${name}`)
      const store = make(Store, { prefix })
      // 300.2 s ahead: ceil gives 301 (floor or round would give 300)
      const at = new Date(Date.now() + 300200)
      const s = { cookie: { originalMaxAge: 300200, expires: kind === 'Date' ? at : at.toISOString() } }
      t.is(await store.set('a', s), 'OK')
      t.is(await ttlOf(`${prefix}a`), 301, 'set: TTL is ceil(300.2) = 301')
      const pttl = await pttlOf(`${prefix}a`)
      t.true(pttl > 300000 && pttl <= 301000, `PTTL ${pttl}`)

      await r.cli('EXPIRE', `${prefix}a`, '5')
      const at2 = new Date(Date.now() + 400200)
      const s2 = { cookie: { originalMaxAge: 400200, expires: kind === 'Date' ? at2 : at2.toISOString() } }
      t.is(await store.touch('a', s2), 1)
      t.is(await ttlOf(`${prefix}a`), 401, 'touch: TTL is ceil(400.2) = 401')
    })
  }

  test(`${name}: cookie.maxAge only: floor(maxAge / 1000)`, async (t) => {
    const prefix = uid(`maxage-${name}`)
    const store = make(Store, { prefix })
    t.is(await store.set('a', { cookie: { maxAge: 250900 } }), 'OK')
    t.is(await ttlOf(`${prefix}a`), 250, 'floor(250.9) = 250')
    t.is(await store.set('b', { cookie: { expires: null, maxAge: 250900, originalMaxAge: 250900 } }), 'OK')
    t.is(await ttlOf(`${prefix}b`), 250, 'expires: null falls through to maxAge')
    await r.cli('EXPIRE', `${prefix}a`, '5')
    t.is(await store.touch('a', { cookie: { maxAge: 350900 } }), 1)
    t.is(await ttlOf(`${prefix}a`), 350, 'touch: floor(350.9) = 350')
  })

  test(`${name}: no cookie (or no expiry in it) gives 86400`, async (t) => {
    const prefix = uid(`nocookie-${name}`)
    const store = make(Store, { prefix })
    t.is(await store.set('a', { user: 'x' }), 'OK')
    near(t, await ttlOf(`${prefix}a`), 86400, 'no cookie')
    t.is(await store.set('b', { cookie: { path: '/', httpOnly: true } }), 'OK')
    near(t, await ttlOf(`${prefix}b`), 86400, 'cookie without expires/maxAge')
    await r.cli('EXPIRE', `${prefix}a`, '5')
    t.is(await store.touch('a', { user: 'x' }), 1)
    near(t, await ttlOf(`${prefix}a`), 86400, 'touch without cookie')
  })

  test(`${name}: an expired cookie deletes the key and set still resolves 'OK'`, async (t) => {
    const prefix = uid(`expired-${name}`)
    const store = make(Store, { prefix })
    await r.cli('SET', `${prefix}a`, JSON.stringify({ old: true }))
    const past = new Date(Date.now() - 60000)
    t.is(await store.set('a', { cookie: { expires: past } }), 'OK')
    t.is(await r.cli('EXISTS', `${prefix}a`), '0', 'set with an expired cookie deleted the key')
    t.is(await store.set('b', { cookie: { expires: past.toISOString() } }), 'OK')
    t.is(await r.cli('EXISTS', `${prefix}b`), '0', 'and wrote nothing')

    await r.cli('SET', `${prefix}c`, JSON.stringify({ old: true }))
    await t.notThrowsAsync(store.touch('c', { cookie: { expires: past } }))
    t.is(await r.cli('EXISTS', `${prefix}c`), '0', 'touch with an expired cookie deleted the key')
  })

  for (const [label, value] of [
    ['0', 0],
    ['negative', -5],
    ['NaN', NaN],
  ]) {
    test(`${name}: ttl function returning ${label} deletes the key`, async (t) => {
      const prefix = uid(`fnzero-${name}`)
      const store = make(Store, { prefix, ttl: () => value })
      await r.cli('SET', `${prefix}a`, JSON.stringify({ old: true }))
      t.is(await store.set('a', { cookie: farCookie() }), 'OK')
      t.is(await r.cli('EXISTS', `${prefix}a`), '0', 'set deleted the key')
      t.is(await store.set('b', { cookie: farCookie() }), 'OK')
      t.is(await r.cli('EXISTS', `${prefix}b`), '0', 'set wrote nothing')
      await r.cli('SET', `${prefix}c`, JSON.stringify({ old: true }))
      await t.notThrowsAsync(store.touch('c', { cookie: farCookie() }))
      t.is(await r.cli('EXISTS', `${prefix}c`), '0', 'touch deleted the key')
    })
  }

  test(`${name}: disableTTL writes no expiry and clears an existing one`, async (t) => {
    const prefix = uid(`dttl-${name}`)
    const store = make(Store, { prefix, disableTTL: true, ttl: 100 })
    t.is(await store.set('a', { cookie: farCookie() }), 'OK')
    t.is(await ttlOf(`${prefix}a`), -1, 'no expiry')
    await r.cli('SET', `${prefix}b`, 'old', 'EX', '500')
    t.is(await store.set('b', { cookie: farCookie() }), 'OK')
    t.is(await ttlOf(`${prefix}b`), -1, 'existing TTL cleared by set')
    // even an expired cookie does not delete: no TTL is computed
    t.is(await store.set('c', { cookie: { expires: new Date(Date.now() - 1000) } }), 'OK')
    t.is(await ttlOf(`${prefix}c`), -1, 'disableTTL computes no TTL, so an expired cookie still writes')
  })

  test.serial(`${name}: disableTTL: touch sends nothing`, async (t) => {
    const prefix = uid(`dttl-touch-${name}`)
    const store = make(Store, { prefix, disableTTL: true, ttl: 100 })
    await r.cli('SET', `${prefix}a`, JSON.stringify({ cookie: {} }), 'EX', '500')
    await store.length() // connection established before MONITOR starts
    const mon = await monitor(r)
    await store.touch('a', { cookie: farCookie() })
    const entries = await mon.stop()
    t.deepEqual(
      entries.filter((e) => e.args.some((a) => a.startsWith(prefix))).map((e) => e.line),
      [],
      'no command about the session was sent',
    )
    near(t, await ttlOf(`${prefix}a`), 500, 'TTL unchanged')
  })

  test(`${name}: disableTouch: touch leaves the TTL unchanged`, async (t) => {
    const prefix = uid(`dtouch-${name}`)
    const store = make(Store, { prefix, disableTouch: true, ttl: 1000 })
    t.is(await store.set('a', { cookie: farCookie() }), 'OK')
    near(t, await ttlOf(`${prefix}a`), 1000, 'set still uses the ttl')
    await r.cli('EXPIRE', `${prefix}a`, '50')
    await store.touch('a', { cookie: farCookie() })
    near(t, await ttlOf(`${prefix}a`), 50, 'touch changed nothing')
  })

  test(`${name}: ttl changed after construction`, async (t) => {
    const prefix = uid(`live-${name}`)
    const store = make(Store, { prefix })
    await store.set('a', { cookie: { maxAge: 100000 } })
    t.is(await ttlOf(`${prefix}a`), 100)
    store.ttl = 321
    await store.set('a', { cookie: { maxAge: 100000 } })
    near(t, await ttlOf(`${prefix}a`), 321, 'number')
    store.ttl = '432'
    await store.set('a', { cookie: { maxAge: 100000 } })
    near(t, await ttlOf(`${prefix}a`), 432, 'numeric string')
    store.ttl = () => 543
    await store.set('a', { cookie: { maxAge: 100000 } })
    near(t, await ttlOf(`${prefix}a`), 543, 'function')
    store.ttl = 654
    t.is(await store.touch('a', { cookie: { maxAge: 100000 } }), 1)
    near(t, await ttlOf(`${prefix}a`), 654, 'touch after change')
  })
}
