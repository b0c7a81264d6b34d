'use strict'
// The lifecycle suite of the foundation issue, as a function every topology runs unchanged:
// every store operation in both API forms, with callbacks and with promises (SPEC.md section 4),
// the callback contract, calling the class without `new`, and live public properties.
//
//   lifecycleSuite(test, () => ({ host, port }), () => standaloneRedis(r))
//   lifecycleSuite(test, () => ({ cluster: c.seeds }), () => clusterRedis(c))
//
// makeStoreOptions() gives the connection options of a store (called once per store, after
// test.before); redis() gives direct access to the topology (__test__/helpers/topology.js).
// Options: { title: prefix of every test title, serialAll: declare every test with test.serial
// (so a file can run fault tests after the suite, in declaration order) }.

const { forms } = require('./forms')
const { uid, closeStore, viaCallback, sleep } = require('./redis')

const EXPIRES = new Date(Date.now() + 3600000).toISOString()

function sess(n, extra = {}) {
  return {
    cookie: {
      originalMaxAge: 3600000,
      expires: EXPIRES,
      secure: false,
      httpOnly: true,
      path: '/',
    },
    n,
    user: { name: `user-${n}`, tags: ['a', 'b'] },
    ...extra,
  }
}

const plain = (v) => JSON.parse(JSON.stringify(v))
const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const ttlOf = async (redis, key) => Number(await redis().cli('TTL', key))

function lifecycleSuite(test, makeStoreOptions, redis, { title = '', serialAll = false } = {}) {
  const stores = []
  const base = test
  const serial = (...args) => base.serial(...args)
  if (serialAll) test = serial

  function make(Store, opts = {}) {
    const store = new Store({ ...makeStoreOptions(), ...opts })
    stores.push(store)
    return store
  }

  base.after.always(async () => {
    await Promise.all(stores.map(closeStore))
  })

  for (const { name: formName, Store } of forms) {
    const name = `${title}${formName}`
    test(`${name}: promise API: get/set/touch/destroy/ids/length/all/clear give the SPEC results`, async (t) => {
      const prefix = uid(`life-p-${formName}`)
      const store = make(Store, { prefix })
      const s = { a: sess(1), b: sess(2), c: sess(3) }

      t.is(await store.get('a'), null, 'get of a missing id is null')
      t.is(await store.length(), 0)
      t.deepEqual(await store.ids(), [])
      t.deepEqual(await store.all(), [])

      for (const id of ['a', 'b', 'c']) t.is(await store.set(id, s[id]), 'OK', `set ${id} resolves 'OK'`)
      t.is(await redis().cli('GET', `${prefix}a`), JSON.stringify(s.a), 'key is prefix + sid, value is JSON.stringify(sess)')
      t.deepEqual(await store.get('a'), plain(s.a))

      t.is(await store.touch('a', s.a), 1, 'touch of an existing session is 1')
      t.is(await store.touch('missing', s.a), 0, 'touch of a missing session is 0')
      t.is(await redis().cli('EXISTS', `${prefix}missing`), '0', 'touch does not create a key')

      const ids = await store.ids()
      t.deepEqual([...ids].sort(), ['a', 'b', 'c'], 'ids without prefix')
      t.is(new Set(ids).size, ids.length, 'no duplicate ids')
      t.is(await store.length(), 3)

      const all = await store.all()
      t.is(all.length, 3)
      t.deepEqual(
        [...all].sort(byId),
        ['a', 'b', 'c'].map((id) => ({ ...plain(s[id]), id })),
        'all() gives every session with its id',
      )

      t.is(await store.destroy('a'), 1, 'destroy of an existing id deletes 1')
      t.is(await store.destroy('a'), 0, 'destroy of a missing id deletes 0')
      t.is(await store.get('a'), null)
      t.is(await store.destroy(['b', 'nope', 'c']), 2, 'destroy([ids]) gives the number deleted')
      t.is(await store.length(), 0)

      for (const id of ['d', 'e', 'f', 'g']) await store.set(id, sess(id))
      await redis().cli('SET', `x${prefix}d`, 'not mine')
      t.is(await store.clear(), 4, 'clear gives the number of keys deleted')
      t.is(await store.length(), 0)
      t.deepEqual(await redis().keys(`${prefix}*`), [])
      t.is(await redis().cli('GET', `x${prefix}d`), 'not mine', 'clear leaves keys outside the prefix alone')
    })

    test(`${name}: callback API: every operation calls back once with the SPEC result and the promise resolves`, async (t) => {
      const prefix = uid(`life-cb-${formName}`)
      const store = make(Store, { prefix })
      const s1 = sess(1)
      const s2 = sess(2)

      const check = async (label, res, expected, compare = 'is') => {
        t.falsy(res.err, `${label}: no error`)
        t[compare](res.result, expected, `${label}: result`)
        t.is(res.calls, 1, `${label}: callback called exactly once`)
        t.is(await res.promise, undefined, `${label}: the promise resolves, with undefined (the outcome goes to the callback only)`)
      }

      await check('get missing', await viaCallback(store, 'get', 'one'), null)
      await check('set', await viaCallback(store, 'set', 'one', s1), 'OK')
      await check('set 2', await viaCallback(store, 'set', 'two', s2), 'OK')
      t.is(await redis().cli('GET', `${prefix}one`), JSON.stringify(s1))
      await check('get', await viaCallback(store, 'get', 'one'), plain(s1), 'deepEqual')
      await check('touch existing', await viaCallback(store, 'touch', 'one', s1), 1)
      await check('touch missing', await viaCallback(store, 'touch', 'missing', s1), 0)

      const ids = await viaCallback(store, 'ids')
      t.deepEqual([...ids.result].sort(), ['one', 'two'])
      await check('ids', ids, ids.result)
      await check('length', await viaCallback(store, 'length'), 2)
      const all = await viaCallback(store, 'all')
      t.deepEqual(
        [...all.result].sort(byId),
        [{ ...plain(s1), id: 'one' }, { ...plain(s2), id: 'two' }],
      )
      await check('all', all, all.result)

      await check('destroy', await viaCallback(store, 'destroy', 'one'), 1)
      await check('destroy missing', await viaCallback(store, 'destroy', 'one'), 0)
      await store.set('three', sess(3))
      await store.set('four', sess(4))
      await check('destroy array', await viaCallback(store, 'destroy', ['two', 'three', 'zzz']), 2)
      await store.set('five', sess(5))
      await check('clear', await viaCallback(store, 'clear'), 2)
      t.deepEqual(await redis().keys(`${prefix}*`), [])
    })

    test(`${name}: callback API: an error goes to the callback only, once, and the promise resolves`, async (t) => {
      const prefix = uid(`life-cberr-${formName}`)
      const store = make(Store, { prefix })
      const cyclic = sess(1)
      cyclic.self = cyclic

      const res = await viaCallback(store, 'set', 'cyc', cyclic)
      t.true(res.err instanceof TypeError, 'the serializer error reaches the callback')
      t.is(res.calls, 1)
      await t.notThrowsAsync(res.promise, 'the promise resolves even though the operation failed')

      // Same for a failure that comes from Redis: the key holds a list, so GET fails with WRONGTYPE.
      await redis().cli('RPUSH', `${prefix}list`, 'x')
      const res2 = await viaCallback(store, 'get', 'list')
      t.true(res2.err instanceof Error, 'a Redis error reaches the callback')
      t.is(res2.calls, 1)
      await t.notThrowsAsync(res2.promise)

      // And without a callback the same failures reject.
      await t.throwsAsync(store.set('cyc', cyclic), { instanceOf: TypeError })
      await t.throwsAsync(store.get('list'))
    })

    serial(`${name}: a throwing callback is called exactly once and is neither an unhandled rejection nor a crash`, async (t) => {
      const prefix = uid(`life-throw-${formName}`)
      const store = make(Store, { prefix })
      const seen = []
      const onRejection = (reason) => seen.push(['unhandledRejection', reason])
      const onException = (err) => seen.push(['uncaughtException', err])
      process.on('unhandledRejection', onRejection)
      process.on('uncaughtException', onException)
      try {
        const cyclic = sess(0)
        cyclic.self = cyclic
        await redis().cli('RPUSH', `${prefix}list`, 'x')
        const calls = [
          ['set', 'a', sess(1)],
          ['get', 'a'],
          ['get', 'missing'],
          ['touch', 'a', sess(1)],
          ['ids'],
          ['length'],
          ['all'],
          ['destroy', 'a'],
          ['destroy', ['b', 'c']],
          ['set', 'b', sess(2)],
          ['clear'],
          // error paths: the callback gets an error and then throws
          ['set', 'cyc', cyclic],
          ['get', 'list'],
        ]
        for (const [method, ...args] of calls) {
          let count = 0
          const promise = store[method](...args, () => {
            count++
            throw new Error(`boom from ${method} callback`)
          })
          t.true(promise && typeof promise.then === 'function', `${method} returns a promise`)
          await t.notThrowsAsync(promise, `${method}: the promise resolves although the callback threw`)
          await sleep(20)
          t.is(count, 1, `${method}: callback called exactly once`)
        }
        await sleep(100)
      } finally {
        process.off('unhandledRejection', onRejection)
        process.off('uncaughtException', onException)
      }
      t.deepEqual(
        seen.map(([kind, e]) => `${kind}: ${e && e.message}`),
        [],
        'no unhandled rejection or uncaught exception',
      )
    })

    test(`${name}: calling the class without new throws TypeError`, (t) => {
      t.throws(() => Store(makeStoreOptions()), { instanceOf: TypeError })
    })

    test(`${name}: prefix is live`, async (t) => {
      const p1 = uid(`live-p1-${formName}`)
      const p2 = uid(`live-p2-${formName}`)
      const store = make(Store, { prefix: p1 })
      await store.set('x', sess(1))
      store.prefix = p2
      t.is(await store.set('y', sess(2)), 'OK')
      t.is(await redis().cli('EXISTS', `${p2}y`), '1', 'set uses the new prefix')
      t.is(await redis().cli('EXISTS', `${p1}y`), '0')
      t.is(await store.get('x'), null, 'get uses the new prefix')
      t.deepEqual(await store.ids(), ['y'], 'ids uses the new prefix')
      t.is(await store.length(), 1)
      t.is(await store.clear(), 1)
      t.is(await redis().cli('EXISTS', `${p1}x`), '1', 'clear uses the new prefix')
    })

    test(`${name}: ttl is live`, async (t) => {
      const prefix = uid(`live-ttl-${formName}`)
      const store = make(Store, { prefix, ttl: 100 })
      await store.set('a', sess(1))
      t.true((await ttlOf(redis, `${prefix}a`)) <= 100)
      store.ttl = 1234
      await store.set('a', sess(1))
      const t1 = await ttlOf(redis, `${prefix}a`)
      t.true(t1 > 1230 && t1 <= 1234, `set after ttl = 1234 gives TTL ${t1}`)
      store.ttl = 2345
      t.is(await store.touch('a', sess(1)), 1)
      const t2 = await ttlOf(redis, `${prefix}a`)
      t.true(t2 > 2340 && t2 <= 2345, `touch after ttl = 2345 gives TTL ${t2}`)
    })

    test(`${name}: disableTTL is live`, async (t) => {
      const prefix = uid(`live-dttl-${formName}`)
      const store = make(Store, { prefix, ttl: 500 })
      await store.set('a', sess(1))
      t.true((await ttlOf(redis, `${prefix}a`)) > 0)
      store.disableTTL = true
      await store.set('a', sess(1))
      t.is(await ttlOf(redis, `${prefix}a`), -1, 'set with disableTTL = true writes no expiry')
      store.disableTTL = false
      await store.set('a', sess(1))
      const v = await ttlOf(redis, `${prefix}a`)
      t.true(v > 490 && v <= 500, `set after disableTTL = false gives TTL ${v}`)
    })

    test(`${name}: disableTouch is live`, async (t) => {
      const prefix = uid(`live-dtouch-${formName}`)
      const store = make(Store, { prefix, ttl: 100 })
      await store.set('a', sess(1))
      store.disableTouch = true
      store.ttl = 5000
      await store.touch('a', sess(1))
      t.true((await ttlOf(redis, `${prefix}a`)) <= 100, 'touch with disableTouch = true leaves the TTL')
      store.disableTouch = false
      t.is(await store.touch('a', sess(1)), 1)
      const v = await ttlOf(redis, `${prefix}a`)
      t.true(v > 4990 && v <= 5000, `touch after disableTouch = false gives TTL ${v}`)
    })

    serial(`${name}: scanCount is live (SCAN COUNT seen with MONITOR)`, async (t) => {
      const prefix = uid(`live-scan-${formName}`)
      const store = make(Store, { prefix })
      await store.set('a', sess(1))
      await store.ids() // connection warmed up
      store.scanCount = 7
      const mon = await redis().monitor()
      t.deepEqual(await store.ids(), ['a'])
      const entries = await mon.stop()
      const scans = entries.filter((e) => e.cmd === 'SCAN')
      t.true(scans.length > 0, 'ids() sent SCAN')
      for (const s of scans) {
        const upper = s.args.map((a) => a.toUpperCase())
        const i = upper.indexOf('COUNT')
        t.true(i >= 0, `SCAN has COUNT: ${s.line}`)
        t.is(s.args[i + 1], '7', `SCAN COUNT is the new scanCount: ${s.line}`)
      }
    })

    test(`${name}: serializer is live`, async (t) => {
      const prefix = uid(`live-ser-${formName}`)
      const store = make(Store, { prefix })
      const s1 = sess(1)
      await store.set('a', s1)
      t.is(await redis().cli('GET', `${prefix}a`), JSON.stringify(s1), 'JSON before the change')
      store.serializer = {
        stringify: (s) => `custom:${JSON.stringify(s)}`,
        parse: (str) => ({ ...JSON.parse(str.slice('custom:'.length)), parsedBy: 'custom' }),
      }
      const s2 = sess(2)
      t.is(await store.set('b', s2), 'OK')
      t.is(await redis().cli('GET', `${prefix}b`), `custom:${JSON.stringify(s2)}`, 'set uses the new serializer')
      t.deepEqual(await store.get('b'), { ...plain(s2), parsedBy: 'custom' }, 'get uses the new serializer')
    })
  }
}

module.exports = { lifecycleSuite, sess, plain, byId }
