'use strict'
// Issue 5, item 3 (first part): faults a running redis-server can throw at the store, each with
// the outcome README "When Redis misbehaves" documents:
//   CLIENT KILL of either store connection -> disconnect, then connect (reconnects at once);
//                                             operations fail at most with ERR_REDIS_CONNECTION
//   CLIENT PAUSE WRITE, DEBUG SLEEP          -> "Redis stops answering": ERR_REDIS_TIMEOUT (or
//                                             ERR_REDIS_CONNECTION while reconnecting) within
//                                             commandTimeout + 10%; everything works afterwards
//   maxmemory reached (OOM)                  -> "an error reply": ERR_REDIS_SERVER with Redis's
//                                             message for SET; GET still works, others in the
//                                             same pipeline are unaffected
// LOADING is in faults-loading.test.js, passwords in faults-auth.test.js.
// Every test has its own redis-server; they run one at a time because they measure time.

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { named: RedisStore } = require('./helpers/forms')
const { rawCommand, waitFor } = require('./helpers/redis')
const { sleep, timed, recordEvents, storeConnections, countBy, closeQuietly, NATIVE_CONNECTIONS, connectionRole } = require('../scripts/fault-tools')

const sess = (n) => ({ cookie: { originalMaxAge: 3600000, path: '/' }, n })
const TIMEOUT_CODES = ['ERR_REDIS_TIMEOUT', 'ERR_REDIS_CONNECTION']

async function withRedis(t, args, fn) {
  const r = await startRedis({ args })
  const stores = []
  const make = (opts) => {
    const store = new RedisStore({ host: r.host, port: r.port, ...opts })
    stores.push(store)
    return store
  }
  try {
    await fn(r, make)
  } finally {
    await Promise.all(stores.map(closeQuietly))
    await r.close()
  }
}

const show = (o) => ({ method: o.method, ms: o.ms, ok: o.ok, value: o.ok ? o.value : undefined, err: o.err, hung: o.hung || undefined })

for (const role of ['main-thread', 'background']) {
  test.serial(`CLIENT KILL of the store's ${role} connection: disconnect, then connect at once; operations recover`, async (t) => {
    await withRedis(t, [], async (r, make) => {
      const store = make({ prefix: 'kill:', commandTimeout: 2000 })
      const events = recordEvents(store)
      await store.set('a', sess(1))
      await waitFor(async () => (await storeConnections(r)).clients.length === NATIVE_CONNECTIONS, { timeout: 2000 })
      const { clients, by } = await storeConnections(r)
      t.log(`store connections found by ${by}: ${clients.map((c) => `id=${c.id} resp=${c.resp} (${connectionRole(c)})`).join(', ')}`)
      t.is(clients.length, NATIVE_CONNECTIONS, 'the store has its pair of connections')
      const victim = clients.find((c) => connectionRole(c) === role)
      t.truthy(victim, `the ${role} connection is in CLIENT LIST`)

      const killAt = Date.now()
      t.is(await r.cli('CLIENT', 'KILL', 'ID', victim.id), '1')
      // Issued at once, possibly before the store noticed the drop.
      const first = await Promise.all([
        timed(store, 'get', ['a']),
        timed(store, 'set', ['b', sess(2)]),
        timed(store, 'touch', ['a', sess(1)]),
        timed(store, 'destroy', ['nothing']),
      ])
      t.log(`operations issued right after the kill: ${JSON.stringify(first.map(show))}`)
      for (const o of first) {
        t.false(o.hung, `${o.method} settled`)
        t.true(o.ms <= 2200, `${o.method} settled within commandTimeout + 10% (${o.ms} ms)`)
        if (!o.ok) t.is(o.err.code, 'ERR_REDIS_CONNECTION', `${o.method} failed only with ERR_REDIS_CONNECTION`)
      }

      await waitFor(() => events.some((e) => e.name === 'connect' && e.at > killAt), { timeout: 3000 })
      t.log(`events: ${events.map((e) => `${e.name}@${e.at - killAt}${e.err ? `(${e.err.code}: ${e.err.message})` : ''}`).join(' ')}`)
      const down = events.find((e) => e.name === 'disconnect' && e.at >= killAt)
      const up = events.find((e) => e.name === 'connect' && e.at >= killAt)
      t.truthy(down, "'disconnect' after the kill")
      t.is(down && down.err && down.err.code, 'ERR_REDIS_CONNECTION', "'disconnect' carries an ERR_REDIS_CONNECTION error")
      t.truthy(up, "'connect' after the kill")
      t.true(up && down && up.at >= down.at, "'connect' comes after 'disconnect'")
      t.true(up && up.at - killAt <= 1000, `reconnected within 1 s of the kill (${up && up.at - killAt} ms)`)

      t.deepEqual(await store.get('a'), sess(1), 'get works after the reconnect')
      t.is(await store.set('c', sess(3)), 'OK', 'set works after the reconnect')
      await waitFor(async () => (await storeConnections(r)).clients.length === NATIVE_CONNECTIONS, { timeout: 2000 })
      const after = await storeConnections(r)
      t.is(after.clients.length, NATIVE_CONNECTIONS, 'a pair of connections again')
      const before = new Set(clients.map((c) => c.id))
      t.true(after.clients.every((c) => !before.has(c.id)), 'both are new connections')
    })
  })
}

test.serial('CLIENT PAUSE WRITE: reads answer, a write fails with ERR_REDIS_TIMEOUT within commandTimeout + 10%; all work after the pause', async (t) => {
  await withRedis(t, [], async (r, make) => {
    const store = make({ prefix: 'pause:', commandTimeout: 1000 })
    await store.set('a', sess(1))
    await store.set('x', sess(10))

    const pausedAt = Date.now()
    await r.cli('CLIENT', 'PAUSE', '2500', 'WRITE')
    const read = await timed(store, 'get', ['a'])
    t.true(read.ok, 'a read before any write answers during CLIENT PAUSE WRITE')
    t.deepEqual(read.value, sess(1))
    t.true(read.ms < 200, `the read was not held (${read.ms} ms)`)

    const write = timed(store, 'set', ['a', sess(2)])
    await sleep(100)
    // Behind the paused SET on the same connection: Redis holds the rest of that connection's
    // commands until the pause ends.
    const behind = timed(store, 'get', ['x'])
    const [w, g] = await Promise.all([write, behind])
    t.log(`during the pause: set ${JSON.stringify(show(w))}; get issued behind it ${JSON.stringify(show(g))}`)
    t.false(w.ok, 'the write fails during the pause')
    t.is(w.err && w.err.code, 'ERR_REDIS_TIMEOUT', 'with ERR_REDIS_TIMEOUT ("Redis stops answering")')
    t.true(w.ms <= 1100, `within commandTimeout + 10% (${w.ms} ms)`)
    t.regex((w.err && w.err.message) || '', /^connect-redis-rs: .*127\.0\.0\.1:\d+/, 'a clear message naming the address')
    t.true(g.ms <= 1100, `the read behind it settles within commandTimeout + 10% too (${g.ms} ms)`)
    if (!g.ok) t.true(TIMEOUT_CODES.includes(g.err.code), `the read behind it fails only with a timeout/connection code (${g.err.code})`)
    else t.deepEqual(g.value, sess(10))

    await sleep(Math.max(0, pausedAt + 2700 - Date.now()))
    const results = await Promise.all([
      timed(store, 'set', ['b', sess(3)]),
      timed(store, 'get', ['x']),
      timed(store, 'touch', ['x', sess(10)]),
    ])
    t.deepEqual(results.map((o) => [o.ok, o.value]), [[true, 'OK'], [true, sess(10)], [true, 1]], 'after the pause every operation works, each with its own reply')
    const stored = await store.get('a')
    t.log(`the SET that timed out during the pause was ${JSON.stringify(stored) === JSON.stringify(sess(2)) ? 'applied by Redis after the pause' : 'not applied'}`)
    t.true([JSON.stringify(sess(1)), JSON.stringify(sess(2))].includes(JSON.stringify(stored)), 'the key holds the old or the timed-out value, nothing else')
  })
})

test.serial('DEBUG SLEEP longer than commandTimeout: every operation fails within commandTimeout + 10%, all work afterwards', async (t) => {
  await withRedis(t, ['--enable-debug-command', 'local'], async (r, make) => {
    const store = make({ prefix: 'dsleep:', commandTimeout: 1000 })
    const events = recordEvents(store)
    await store.set('a', sess(1))

    const sleeping = r.cli('DEBUG', 'SLEEP', '3')
    await sleep(100)
    const sleepAt = Date.now()
    const ops = await Promise.all([
      timed(store, 'get', ['a']),
      timed(store, 'set', ['b', sess(2)]),
      timed(store, 'touch', ['a', sess(1)]),
      timed(store, 'destroy', ['z']),
      timed(store, 'ids'),
      timed(store, 'all'),
    ])
    // and a second wave while still asleep (after the first ones timed out)
    const second = await Promise.all([timed(store, 'get', ['a']), timed(store, 'length')])
    t.log(`while Redis sleeps: ${JSON.stringify([...ops, ...second].map(show))}`)
    for (const o of [...ops, ...second]) {
      t.false(o.ok, `${o.method} fails while Redis sleeps`)
      t.true(TIMEOUT_CODES.includes(o.err && o.err.code), `${o.method}: ${o.err && o.err.code}`)
      t.true(o.ms <= 1100, `${o.method} failed within commandTimeout + 10% (${o.ms} ms)`)
    }
    t.true(Date.now() < sleepAt + 2900, 'all of that happened while Redis was asleep')

    await sleeping
    const awakeAt = Date.now()
    let firstOk
    for (;;) {
      const o = await timed(store, 'get', ['a'])
      if (o.ok) {
        firstOk = o.end
        break
      }
      if (Date.now() > awakeAt + 5000) break
      await sleep(20)
    }
    t.log(`first success ${firstOk - awakeAt} ms after DEBUG SLEEP returned; events ${events.map((e) => `${e.name}@${e.at - sleepAt}${e.err ? `(${e.err.code})` : ''}`).join(' ')}`)
    t.true(firstOk !== undefined && firstOk - awakeAt <= 1000, `operations succeed within 1 s of Redis waking up (${firstOk - awakeAt} ms)`)
    const results = await Promise.all([store.set('c', sess(3)), store.get('a'), store.get('c'), store.get('missing')])
    t.deepEqual(results, ['OK', sess(1), sess(3), null], 'every reply goes to its own operation')
  })
})

test.serial('maxmemory reached: set fails with ERR_REDIS_SERVER and the OOM message, get (same pipeline) still works', async (t) => {
  await withRedis(t, ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction', '--enable-debug-command', 'local'], async (r, make) => {
    const store = make({ prefix: 'oom:', commandTimeout: 2000 })
    const events = recordEvents(store)
    await store.set('keep', sess(1))
    // Writes from a client are refused once used memory is over maxmemory, but the client's
    // own query buffer counts too and is freed when it disconnects: filling with SET leaves
    // Redis just at the limit. DEBUG POPULATE is not refused, so it takes Redis well past it.
    t.is(await r.cli('DEBUG', 'POPULATE', '1000', 'fill:', '2048'), 'OK')
    const used = Number(/used_memory:(\d+)/.exec(await r.cli('INFO', 'memory'))[1])
    t.log(`used_memory ${used} bytes; maxmemory 2 MB`)
    const oom = await rawCommand(r, ['SET', 'other', 'x'])
    t.true(oom instanceof Error, 'Redis refuses writes (OOM) after filling')
    const n = 1000
    t.regex(oom.message, /^OOM /)

    const [set, get] = await Promise.all([timed(store, 'set', ['new', sess(2)]), timed(store, 'get', ['keep'])])
    t.log(`set: ${JSON.stringify(show(set))}`)
    t.false(set.ok, 'set fails')
    t.is(set.err && set.err.code, 'ERR_REDIS_SERVER')
    t.regex((set.err && set.err.message) || '', /OOM/, 'the message says OOM')
    t.true(
      ((set.err && set.err.message) || '').includes("OOM command not allowed when used memory > 'maxmemory'."),
      `with Redis's message verbatim (README: "ERR_REDIS_SERVER with Redis's message"); got ${JSON.stringify(set.err && set.err.message)}`,
    )
    t.true(get.ok, 'get in the same tick (same pipeline) works')
    t.deepEqual(get.value, sess(1))
    t.is(await store.touch('keep', sess(1)), 1, 'touch (EXPIRE) works under OOM')
    t.is(await store.length(), 1, 'length works under OOM')
    t.is(await store.get('new'), null, 'the refused set wrote nothing')
    t.deepEqual(events.filter((e) => e.name === 'disconnect'), [], 'an error reply is not a disconnect')

    await rawCommand(r, ['DEL', ...Array.from({ length: n }, (_, i) => `fill::${i}`)])
    t.is(await store.set('new', sess(2)), 'OK', 'set works again once memory is freed')
    t.deepEqual(await store.get('new'), sess(2))
    t.is(await store.destroy(['keep', 'new']), 2)
  })
})

test.serial('an operation refused with an error reply does not fail the others of its tick', async (t) => {
  await withRedis(t, [], async (r, make) => {
    const store = make({ prefix: 'mixed:' })
    await store.set('ok', sess(1))
    await r.cli('HSET', 'mixed:hash', 'f', 'v')
    const results = await Promise.all([
      timed(store, 'get', ['ok']),
      timed(store, 'get', ['hash']),
      timed(store, 'set', ['new', sess(2)]),
      timed(store, 'get', ['missing']),
    ])
    t.deepEqual(results.map((o) => o.ok), [true, false, true, true])
    t.is(results[1].err.code, 'ERR_REDIS_SERVER')
    t.regex(results[1].err.message, /WRONGTYPE/)
    t.true(
      results[1].err.message.includes('WRONGTYPE Operation against a key holding the wrong kind of value'),
      `with Redis's message verbatim; got ${JSON.stringify(results[1].err.message)}`,
    )
    t.deepEqual(results[0].value, sess(1))
    t.is(results[3].value, null)
    t.log(countBy(results, (o) => (o.ok ? 'ok' : o.err.code)))
  })
})
