'use strict'
// One scenario of hostile or odd input against connect-redis-rs, run in its own process by
// __test__/faults-input.test.js so that a crash is seen as a crash (exit code) rather than taking
// the test runner down.
//
//   node scripts/bad-input-child.js <scenario>     env: REDIS_HOST, REDIS_PORT, ROOT
//
// It prints one line `RESULT <json>`: { scenario, prefixes, results, problems, warnings } where
// `results` maps a case name to { ok, value, err: { name, code, message }, sync } and `problems`
// lists every 'unhandledRejection' / 'uncaughtException' the process saw. Then it exits on its
// own (the stores are closed; nothing may keep the process alive).

const util = require('node:util')
const session = require('express-session')
const { RedisStore } = require('..')
const { rawCommand } = require('../__test__/helpers/redis')

const scenario = process.argv[2]
const r = { host: process.env.REDIS_HOST, port: Number(process.env.REDIS_PORT) }
const ROOT = process.env.ROOT

const problems = []
const warnings = []
process.on('unhandledRejection', (e) => problems.push(`unhandledRejection: ${(e && e.stack) || e}`))
process.on('uncaughtException', (e) => problems.push(`uncaughtException: ${(e && e.stack) || e}`))
process.on('warning', (w) => warnings.push(String(w)))

const results = {}
const prefixes = []
const stores = []
const corrupt = []

function make(opts = {}) {
  const store = new RedisStore({ host: r.host, port: r.port, ...opts })
  stores.push(store)
  prefixes.push(store.prefix)
  store.on('corrupt', (sid, err) => corrupt.push({ sid: typeof sid === 'string' && sid.length > 100 ? `${sid.slice(0, 20)}…(${sid.length})` : sid, err: describe(err) }))
  return store
}

function describe(err) {
  return err == null ? null : { name: err.name, code: err.code, message: String(err.message).slice(0, 500) }
}

/** Runs fn (which may throw synchronously or return a promise); records what happened. */
async function attempt(name, fn, summarize = (v) => v) {
  let ret
  try {
    ret = fn()
  } catch (err) {
    results[name] = { ok: false, err: describe(err), sync: true }
    return
  }
  try {
    const value = await ret
    results[name] = { ok: true, value: summarize(value) }
  } catch (err) {
    results[name] = { ok: false, err: describe(err), sync: false }
  }
}

const raw = (...args) => rawCommand(r, args)
const rawText = async (...args) => {
  const v = await raw(...args)
  return Buffer.isBuffer(v) ? v.toString() : v
}
const sess = (n, extra = {}) => ({ cookie: { originalMaxAge: 600000, path: '/' }, n, ...extra })
const reflect = (p) => p.then((value) => ({ ok: true, value }), (err) => ({ ok: false, err: describe(err) }))
const pollution = () => {
  const probe = {}
  return ['polluted', 'polluted2', 'pollutedC', 'pollutedN'].filter((k) => probe[k] !== undefined || Object.prototype[k] !== undefined)
}

const scenarios = {
  async wrongtype() {
    const p = `${ROOT}wt:`
    const store = make({ prefix: p })
    await store.set('good', sess(1))
    await raw('HSET', `${p}h`, 'f', 'v')
    await raw('RPUSH', `${p}l`, 'a')
    await attempt('get hash', () => store.get('h'))
    await attempt('get list', () => store.get('l'))
    await attempt('get hash and good in one tick', async () => {
      const [h, g] = await Promise.all([reflect(store.get('h')), reflect(store.get('good'))])
      return { hash: h.ok ? 'ok' : h.err.code, good: g.ok ? g.value : g.err }
    })
    await attempt('all skips hash and list', () => store.all(), (all) => all.map((s) => s.id).sort())
    await attempt('ids lists every key', () => store.ids(), (ids) => ids.sort())
    await attempt('touch hash', () => store.touch('h', sess(1)))
    await attempt('set over hash', () => store.set('h', sess(2)))
    await attempt('get after set over hash', () => store.get('h'))
    await attempt('destroy list', () => store.destroy('l'))
  },

  async values() {
    const p = `${ROOT}val:`
    const store = make({ prefix: p })
    const BIG = 50 * 1024 * 1024
    await store.set('good', sess(1))
    await raw('SET', `${p}notjson`, '{"cookie": nope')
    await raw('SET', `${p}notutf8`, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]))
    await raw('SET', `${p}empty`, '')
    await raw('SET', `${p}jsonnull`, 'null')
    const bigSess = { cookie: { originalMaxAge: 600000 }, blob: 'b'.repeat(BIG) }
    await raw('SET', `${p}bigjson`, JSON.stringify(bigSess))
    await raw('SET', `${p}bignotjson`, Buffer.alloc(BIG, 0x41))
    for (const sid of ['notjson', 'notutf8', 'empty', 'jsonnull']) await attempt(`get ${sid}`, () => store.get(sid))
    let t = Date.now()
    await attempt('get 50 MB JSON', () => store.get('bigjson'), (v) => ({ blobLength: v && v.blob.length, ms: Date.now() - t }))
    t = Date.now()
    await attempt('get 50 MB not JSON', () => store.get('bignotjson'), (v) => ({ value: v, ms: Date.now() - t }))
    t = Date.now()
    await attempt('set 50 MB', () => store.set('bigset', bigSess), (v) => ({ value: v, ms: Date.now() - t }))
    await attempt('strlen of the 50 MB set', () => raw('STRLEN', `${p}bigset`))
    await attempt('all with corrupt and 50 MB values', () => store.all(), (all) => all.map((s) => `${s.id}:${s.blob ? s.blob.length : s.n}`).sort())
    results.corruptEvents = { ok: true, value: corrupt.map((c) => c.sid).sort() }
    results.corruptErrors = { ok: true, value: corrupt.map((c) => c.err && c.err.name) }
  },

  async cycle() {
    const p = `${ROOT}cyc:`
    const store = make({ prefix: p })
    const cyclic = sess(1)
    cyclic.self = cyclic
    await attempt('set cyclic', () => store.set('c', cyclic))
    await attempt('exists after cyclic', () => raw('EXISTS', `${p}c`))
    await attempt('set cyclic with callback', () =>
      new Promise((resolve) => {
        let calls = 0
        let first
        const promise = store.set('c', cyclic, (err) => {
          calls++
          first = first || describe(err)
        })
        promise.then(
          () => setTimeout(() => resolve({ calls, err: first, promise: 'resolved' }), 50),
          (err) => setTimeout(() => resolve({ calls, err: first, promise: `rejected ${err}` }), 50),
        )
      }),
    )
    await attempt('set BigInt', () => store.set('b', { cookie: {}, n: 10n }))
    await attempt('set toJSON throws', () =>
      store.set('j', {
        cookie: {},
        toJSON() {
          throw new RangeError('toJSON says no')
        },
      }),
    )
    await attempt('set undefined session', () => store.set('u', undefined))
    await attempt('set a function as session', () => store.set('f', () => 1))
    await attempt('keys written', async () => (await rawText('EXISTS', `${p}c`, `${p}b`, `${p}j`, `${p}u`, `${p}f`)))
  },

  async proto() {
    const p = `${ROOT}proto:`
    const store = make({ prefix: p })
    const json =
      '{"cookie":{"originalMaxAge":600000,"__proto__":{"pollutedC":"yes"}},' +
      '"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted2":"yes"}},' +
      '"nested":{"__proto__":{"pollutedN":"yes"}}}'
    await raw('SET', `${p}p`, json)
    const check = (s) => ({
      pollution: pollution(),
      prototypeIsObject: s != null && Object.getPrototypeOf(s) === Object.prototype,
      ownProto: s != null && Object.prototype.hasOwnProperty.call(s, '__proto__'),
      id: s && s.id,
    })
    await attempt('get', () => store.get('p'), check)
    await attempt('all', () => store.all(), (all) => all.map(check))
    await attempt('express-session createSession', async () => {
      const s = await store.get('p')
      const req = { sessionStore: store, sessionID: 'p' }
      const created = store.createSession(req, s)
      return { pollution: pollution(), views: created.views, isSession: created instanceof session.Session }
    })
    await attempt('set and get a session with an own __proto__ key', async () => {
      const s = JSON.parse('{"cookie":{},"__proto__":{"polluted":"yes"},"x":1}')
      await store.set('p2', s)
      return { stored: await rawText('GET', `${p}p2`), back: check(await store.get('p2')) }
    })
    results.pollutionAtEnd = { ok: true, value: pollution() }
  },

  async ids() {
    const p = `${ROOT}ids:`
    const store = make({ prefix: p })
    await attempt('set empty id', () => store.set('', sess(0)))
    await attempt('key of the empty id is the prefix', () => raw('EXISTS', p))
    await attempt('get empty id', () => store.get(''))
    const huge = 'h'.repeat(1024 * 1024)
    await attempt('set 1 MB id', () => store.set(huge, sess(1)))
    await attempt('get 1 MB id', () => store.get(huge))
    await attempt('touch 1 MB id', () => store.touch(huge, sess(1)))
    const odd = ['*', '?', '[a-z]', '\\', '*?[]\\', 'a*', '\0', 'a\0b', '\r\n', '\x1b[31m', '\x7f', '\t', '\u2028', 'ünï😀']
    await attempt('set odd ids', async () => Promise.all(odd.map((sid, i) => store.set(sid, sess(i + 10)))))
    await attempt('get odd ids', async () => {
      const got = await Promise.all(odd.map((sid) => store.get(sid)))
      return odd.filter((sid, i) => !got[i] || got[i].n !== i + 10).map((sid) => JSON.stringify(sid))
    })
    await attempt('odd keys are prefix + id', async () => {
      const exists = await Promise.all(odd.map((sid) => raw('EXISTS', Buffer.from(p + sid))))
      return odd.filter((sid, i) => exists[i] !== 1).map((sid) => JSON.stringify(sid))
    })
    await attempt('ids gives every id exactly', () => store.ids(), (ids) => {
      const want = ['', huge, ...odd]
      const have = new Set(ids)
      return { missing: want.filter((x) => !have.has(x)).map((x) => JSON.stringify(x.slice(0, 30))), extra: ids.filter((x) => !want.includes(x)).map((x) => JSON.stringify(x.slice(0, 30))) }
    })
    await attempt("destroy('*') deletes one key", () => store.destroy('*'))
    await attempt('length after destroy *', () => store.length())
    await attempt('lone surrogate id round-trips', async () => {
      await store.set('\ud800x', sess(99))
      const back = await store.get('\ud800x')
      return back && back.n
    })
    // Not strings: connect-redis builds the key as prefix + sid.
    await raw('SET', `${p}123`, JSON.stringify(sess(123)))
    await attempt('get a number id reads prefix + String(id)', () => store.get(123), (v) => v && v.n)
    await attempt('a number id does not disturb the other operations of its tick', async () => {
      const [a, b] = await Promise.all([reflect(store.get(123)), reflect(store.get('[a-z]'))])
      return { number: a.ok ? a.value && a.value.n : a.err.code, other: b.ok ? b.value && b.value.n : b.err.code }
    })
    for (const [label, sid] of [['undefined', undefined], ['null', null], ['an object', { a: 1 }], ['an array', ['x']]]) {
      await attempt(`get ${label} id settles`, () => store.get(sid))
      await attempt(`set ${label} id settles`, () => store.set(sid, sess(7)))
      await attempt(`destroy ${label} id settles`, () => store.destroy(sid))
    }
    await attempt('destroy([]) is 0', () => store.destroy([]))
    await attempt('destroy of the 1 MB id', () => store.destroy(huge))
  },

  async prefix() {
    const globs = ['g*:', 'g?[x]\\:', 'a[1]:']
    const out = {}
    for (const g of globs) {
      const store = make({ prefix: ROOT + g })
      for (const id of ['one', 'two', 'three']) await store.set(id, sess(id))
      out[g] = {
        ids: (await store.ids()).sort(),
        length: await store.length(),
        all: (await store.all()).map((s) => s.id).sort(),
        clear: await store.clear(),
        after: await store.length(),
      }
    }
    results['glob prefixes see and clear only their own keys'] = { ok: true, value: out }
  },

  async ttl() {
    const p = `${ROOT}ttl:`
    const cases = [
      ['ttl -5', { ttl: -5 }],
      ['ttl 0 (not set: cookie maxAge 600 s)', { ttl: 0 }],
      ['ttl Infinity', { ttl: Infinity }],
      ['ttl -Infinity', { ttl: -Infinity }],
      ['ttl 1e300', { ttl: 1e300 }],
      ['ttl Number.MAX_VALUE', { ttl: Number.MAX_VALUE }],
      ["ttl '-5'", { ttl: '-5' }],
      ["ttl '1e3'", { ttl: '1e3' }],
      ['ttl 0.2', { ttl: 0.2 }],
      ['ttl function -> NaN', { ttl: () => NaN }],
      ['ttl function -> Infinity', { ttl: () => Infinity }],
      ['ttl function -> -1', { ttl: () => -1 }],
      ['ttl function -> 0', { ttl: () => 0 }],
      ["ttl function -> 'abc'", { ttl: () => 'abc' }],
      ['ttl function -> undefined', { ttl: () => undefined }],
      ['ttl function throws', { ttl: () => { throw new RangeError('ttl says no') } }],
    ]
    const cookieCases = [
      ['cookie maxAge -1000', { cookie: { maxAge: -1000 } }],
      ['cookie maxAge 0', { cookie: { maxAge: 0 } }],
      ['cookie maxAge NaN', { cookie: { maxAge: NaN } }],
      ['cookie maxAge Infinity', { cookie: { maxAge: Infinity } }],
      ['cookie expires in the past', { cookie: { expires: new Date(Date.now() - 60000).toISOString() } }],
      ["cookie expires 'garbage'", { cookie: { expires: 'garbage' } }],
      ['no cookie (one day)', {}],
    ]
    let i = 0
    const outcome = async (name, store, s) => {
      const sid = `s${i++}`
      await raw('SET', p + sid, 'previous value')
      await attempt(name, async () => {
        const res = await store.set(sid, s)
        return { res, exists: await raw('EXISTS', p + sid), ttl: await raw('TTL', p + sid) }
      })
      if (!results[name].ok) results[name].after = { exists: await raw('EXISTS', p + sid), value: await rawText('GET', p + sid) }
    }
    for (const [name, opts] of cases) {
      let store
      try {
        store = make({ prefix: p, ...opts })
      } catch (err) {
        results[name] = { ok: false, err: describe(err), sync: true, construction: true }
        continue
      }
      await outcome(name, store, { cookie: { originalMaxAge: 600000, maxAge: 600000, expires: new Date(Date.now() + 600000).toISOString() } })
    }
    const plain = make({ prefix: p })
    for (const [name, s] of cookieCases) await outcome(name, plain, s)
    await attempt('ttl NaN at construction', () => make({ prefix: p, ttl: NaN }))
    await attempt('touch with ttl -5 deletes', async () => {
      const store = make({ prefix: p, ttl: -5 })
      await raw('SET', `${p}t1`, 'x')
      const res = await store.touch('t1', sess(1))
      return { res, exists: await raw('EXISTS', `${p}t1`) }
    })
    await attempt('touch with ttl Infinity', async () => {
      const store = make({ prefix: p, ttl: Infinity })
      await raw('SET', `${p}t2`, 'x')
      const res = await store.touch('t2', sess(1))
      return { res, ttl: await raw('TTL', `${p}t2`) }
    })
    const later = make({ prefix: p })
    later.ttl = 'abc'
    await attempt("set after store.ttl = 'abc'", () => later.set('late', sess(1)))
    await attempt("touch after store.ttl = 'abc'", () => later.touch('late', sess(1)))
    later.ttl = NaN
    await attempt('set after store.ttl = NaN', () => later.set('late', sess(1)))
    await attempt('late key not written', () => raw('EXISTS', `${p}late`))
  },

  async options() {
    const bad = [
      ['prefix', 5],
      ['prefix', {}],
      ['prefix', true],
      ['scanCount', 0],
      ['scanCount', -1],
      ['scanCount', 1.5],
      ['scanCount', '100'],
      ['scanCount', NaN],
      ['serializer', {}],
      ['serializer', { stringify: JSON.stringify }],
      ['serializer', 'json'],
      ['ttl', 'abc'],
      ['ttl', {}],
      ['ttl', true],
      ['ttl', NaN],
      ['logErrors', 'yes'],
      ['port', 70000],
      ['port', -1],
      ['port', 'abc'],
      ['port', 1.5],
      ['db', 'x'],
      ['db', 1.5],
      ['db', -1],
      ['db', {}],
      ['url', 'not a url'],
      ['url', 'http://example.com'],
      ['url', 5],
      ['host', 5],
      ['host', {}],
      ['connectTimeout', -1],
      ['connectTimeout', 'abc'],
      ['connectTimeout', NaN],
      ['commandTimeout', -1],
      ['commandTimeout', 'abc'],
      ['commandTimeout', NaN],
      ['commandTimeout', 0],
      ['client', 5],
      ['client', 'redis'],
    ]
    for (const [name, value] of bad) {
      const label = `${name}: ${util.inspect(value)}`
      await attempt(label, () => {
        const store = new RedisStore({ host: r.host, port: r.port, [name]: value })
        stores.push(store)
        return 'constructed'
      })
      results[label].option = name
    }
    for (const value of ['redis://127.0.0.1', 5, true]) {
      const label = `options: ${util.inspect(value)}`
      await attempt(label, () => {
        const store = new RedisStore(value)
        stores.push(store)
        return 'constructed'
      })
      results[label].option = 'options'
    }
  },
}

async function main() {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`)
  await scenarios[scenario]()
  await Promise.all(
    stores.map((s) =>
      Promise.race([Promise.resolve(s.close && s.close()).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 3000).unref())]),
    ),
  )
  process.stdout.write(`RESULT ${JSON.stringify({ scenario, prefixes, results, problems, warnings })}\n`)
}

main().catch((err) => {
  problems.push(`scenario threw: ${(err && err.stack) || err}`)
  process.stdout.write(`RESULT ${JSON.stringify({ scenario, prefixes, results, problems, warnings })}\n`)
  process.exitCode = 1
})
