'use strict'
// Child process, run before any timing: every store must see the same sessions. A session set by
// any store is read back equal by each store, touched and destroyed by each, and each store's
// length / ids / all / clear agree over the same keys. Any difference fails the run.

const { childMain } = require('./proc')
const { STORES, STORE_NAMES: ALL_STORES, openStore } = require('./stores')

// Every store that keeps its sessions in Redis (the HTTP-only stores keep nothing in Redis to compare).
const STORE_NAMES = ALL_STORES.filter((name) => !STORES[name].httpOnly && !STORES[name].bulkOnly)
const { makeSession } = require('./sessions')

const PREFIX = 'verify:'

/** Throws a short message (not a multi-kilobyte diff) when two JSON-able values differ. */
function same(actual, expected, what) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: got ${cut(a)}, expected ${cut(e)}`)
}

function ok(condition, what) {
  if (!condition) throw new Error(what)
}

const cut = (s) => (s === undefined ? 'undefined' : s.length > 160 ? `${s.slice(0, 160)}…` : s)

const call = (store, method, ...args) =>
  new Promise((resolve, reject) => store[method](...args, (err, value) => (err ? reject(err) : resolve(value))))

async function main({ port, sizes }, ask) {
  const stores = {}
  const closers = []
  for (const name of STORE_NAMES) {
    const { store, close } = await openStore(name, { port, prefix: PREFIX })
    stores[name] = store
    closers.push(close)
  }
  const each = async (fn) => {
    for (const name of STORE_NAMES) await fn(name, stores[name])
  }
  let checks = 0

  for (const size of sizes) {
    await each(async (writer, w) => {
      const sid = `one-${writer}-${size}`
      const sess = makeSession(size, sid)
      const expected = JSON.stringify(sess)
      await call(w, 'set', sid, sess)
      const ttl = await ask('ttl', PREFIX + sid)
      ok(ttl > 86000 && ttl <= 86400, `${writer}.set(${size} B) stored a TTL of ${ttl}`)
      await each(async (reader, r) => {
        same(await call(r, 'get', sid), JSON.parse(expected), `${writer}.set then ${reader}.get (${size} B)`)
        await ask('shorten', PREFIX + sid)
        await call(r, 'touch', sid, sess)
        ok((await ask('ttl', PREFIX + sid)) > 86000, `${reader}.touch renews the TTL`)
        checks += 2
      })
      await call(w, 'destroy', sid)
      await each(async (reader, r) => {
        same((await call(r, 'get', sid)) ?? null, null, `${writer}.destroy then ${reader}.get (${size} B)`)
        checks++
      })
    })
  }

  // Bulk: the same 25 sessions through every store's length, ids and all; then clear.
  const sids = Array.from({ length: 25 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`)
  const sessions = sids.map((sid) => makeSession(200, sid))
  const fill = () => Promise.all(sids.map((sid, i) => call(stores.rs, 'set', sid, sessions[i])))
  const expectedAll = JSON.stringify(sids.map((sid, i) => ({ ...JSON.parse(JSON.stringify(sessions[i])), id: sid })))
  await fill()
  await each(async (name, s) => {
    same(await call(s, 'length'), sids.length, `${name}.length`)
    same((await call(s, 'ids')).sort(), sids, `${name}.ids`)
    same((await call(s, 'all')).sort((a, b) => (a.id < b.id ? -1 : 1)), JSON.parse(expectedAll), `${name}.all`)
    checks += 3
  })
  await each(async (name, s) => {
    if (typeof s.clear !== 'function') return
    await fill()
    await call(s, 'clear')
    same(await call(stores.rs, 'length'), 0, `${name}.clear`)
    checks++
  })
  await fill()
  await call(stores.rs, 'clear')

  for (const close of closers) await close()
  return { checks }
}

if (require.main === module) childMain(main)
