'use strict'
// Hostile or unusual data: corrupt stored values, glob characters in prefixes and ids, big and
// cyclic sessions (SPEC.md section 4).

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { forms } = require('./helpers/forms')
const { uid, rawCommand, closeStore, waitFor, viaCallback } = require('./helpers/redis')

let r
const stores = []

function make(Store, opts = {}) {
  const store = new Store({ host: r.host, port: r.port, ...opts })
  stores.push(store)
  return store
}

const EXPIRES = new Date(Date.now() + 600000).toISOString()
const sess = (n) => ({ cookie: { originalMaxAge: 600000, expires: EXPIRES }, n })
const plain = (v) => JSON.parse(JSON.stringify(v))
const exists = async (key) => (await r.cli('EXISTS', key)) === '1'

test.before(async () => {
  r = await startRedis()
})

test.after.always(async () => {
  await Promise.all(stores.map(closeStore))
  if (r) await r.close()
})

const corruptValues = [
  ['not JSON', Buffer.from('{this is not json')],
  ['not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x80])],
  ['JSON with invalid UTF-8 inside a string', Buffer.concat([Buffer.from('{"cookie":{},"a":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')])],
]

for (const { name, Store } of forms) {
  for (const [label, bytes] of corruptValues) {
    test(`${name}: a stored value that is ${label}: get gives null and 'corrupt' (sid, err) is emitted`, async (t) => {
      const prefix = uid(`corrupt-${name}`)
      const store = make(Store, { prefix })
      const events = []
      store.on('corrupt', (sid, err) => events.push({ sid, err }))
      t.is(await rawCommand(r, ['SET', `${prefix}bad`, bytes]), 'OK')
      t.deepEqual(await rawCommand(r, ['GET', `${prefix}bad`]), bytes, 'raw bytes are stored as given')

      t.is(await store.get('bad'), null, 'get of a corrupt value is null')
      await waitFor(() => events.length > 0)
      t.true(events.length > 0, "'corrupt' was emitted")
      t.is(events[0].sid, 'bad', "'corrupt' gets the session id")
      t.true(events[0].err instanceof Error, "'corrupt' gets an Error")

      // with a callback too: no error, null
      const res = await viaCallback(store, 'get', 'bad')
      t.falsy(res.err)
      t.is(res.result, null)
    })
  }

  test(`${name}: all() skips values that cannot be parsed; ids() and length() still count their keys`, async (t) => {
    const prefix = uid(`allskip-${name}`)
    const store = make(Store, { prefix })
    store.on('corrupt', () => {})
    await store.set('good1', sess(1))
    await store.set('good2', sess(2))
    for (const [i, [, bytes]] of corruptValues.entries()) {
      await rawCommand(r, ['SET', `${prefix}bad${i}`, bytes])
    }
    const all = await store.all()
    t.deepEqual(
      all.sort((a, b) => (a.id < b.id ? -1 : 1)),
      [
        { ...plain(sess(1)), id: 'good1' },
        { ...plain(sess(2)), id: 'good2' },
      ],
    )
    t.deepEqual((await store.ids()).sort(), ['bad0', 'bad1', 'bad2', 'good1', 'good2'])
    t.is(await store.length(), 5)
  })

  // Each prefix with glob characters, next to another application's keys that the unescaped
  // pattern would match.
  const globPrefixes = [
    ['app[1]:', ['app1:x', 'app1:y']],
    ['a*:', ['ab:x', 'azz:y']],
    ['q?:', ['qq:x', 'qz:y']],
    ['b\\:', ['b:x', 'b:y']],
  ]
  for (const [glob, neighbours] of globPrefixes) {
    test(`${name}: prefix ${JSON.stringify(glob)}: ids, length, all, clear neither see nor delete ${neighbours.join(', ')}`, async (t) => {
      const base = uid(`glob-${name}`)
      const prefix = base + glob
      const others = neighbours.map((k) => base + k)
      for (const k of others) await r.cli('SET', k, JSON.stringify({ cookie: {}, other: k }))
      const store = make(Store, { prefix })
      await store.set('a', sess(1))
      await store.set('b', sess(2))
      t.true(await exists(`${prefix}a`))

      t.deepEqual((await store.ids()).sort(), ['a', 'b'], 'ids sees exactly its own sessions')
      t.is(await store.length(), 2)
      t.deepEqual(
        (await store.all()).map((s) => s.id).sort(),
        ['a', 'b'],
        'all sees exactly its own sessions',
      )
      t.is(await store.clear(), 2, 'clear deleted its own two sessions')
      t.false(await exists(`${prefix}a`))
      t.false(await exists(`${prefix}b`))
      for (const k of others) t.true(await exists(k), `${k} of the other application survives`)
    })
  }

  test(`${name}: session ids with spaces, unicode and glob characters round-trip`, async (t) => {
    const prefix = uid(`ids-${name}`)
    const store = make(Store, { prefix })
    const sids = ['with space', 'ünïcødé-😀-中文', '*', '?', '[abc]', 'a\\b', '*?[]\\', 'tab\tand\nnewline', 'h*llo']
    for (const [i, sid] of sids.entries()) {
      t.is(await store.set(sid, sess(i)), 'OK', `set ${JSON.stringify(sid)}`)
      t.true(await exists(prefix + sid), `key for ${JSON.stringify(sid)} is prefix + sid`)
    }
    for (const [i, sid] of sids.entries()) {
      t.deepEqual(await store.get(sid), plain(sess(i)), `get ${JSON.stringify(sid)}`)
    }
    t.deepEqual((await store.ids()).sort(), [...sids].sort(), 'ids gives every id exactly')
    t.deepEqual(
      (await store.all()).map((s) => s.id).sort(),
      [...sids].sort(),
    )
    t.is(await store.destroy('*'), 1, "destroy('*') deletes one key")
    t.is(await store.length(), sids.length - 1, "destroy('*') deleted only that session")
    t.deepEqual(await store.get('h*llo'), plain(sess(sids.indexOf('h*llo'))))
    t.is(await store.destroy(sids.filter((s) => s !== '*')), sids.length - 1)
    t.is(await store.length(), 0)
  })

  test(`${name}: a 5 MB session round-trips`, async (t) => {
    const prefix = uid(`big-${name}`)
    const store = make(Store, { prefix })
    const big = { ...sess(1), blob: 'x'.repeat(5 * 1024 * 1024), text: 'ünï 😀 中文 '.repeat(2000) }
    t.is(await store.set('big', big), 'OK')
    const len = Number(await r.cli('STRLEN', `${prefix}big`))
    t.is(len, Buffer.byteLength(JSON.stringify(big)))
    const got = await store.get('big')
    t.is(got.blob.length, big.blob.length)
    t.deepEqual(got, plain(big))
    const all = await store.all()
    t.is(all.length, 1)
    t.is(all[0].text, big.text)
  })

  test(`${name}: a session with a cycle fails set with the serializer's TypeError and writes nothing`, async (t) => {
    const prefix = uid(`cycle-${name}`)
    const store = make(Store, { prefix })
    const cyclic = sess(1)
    cyclic.me = cyclic
    await r.cli('SET', `${prefix}existing`, 'old value')

    const err = await t.throwsAsync(store.set('fresh', cyclic), { instanceOf: TypeError })
    t.regex(err.message, /circular/i)
    t.false(await exists(`${prefix}fresh`), 'nothing written')
    await t.throwsAsync(store.set('existing', cyclic), { instanceOf: TypeError })
    t.is(await r.cli('GET', `${prefix}existing`), 'old value', 'existing value unchanged')

    const res = await viaCallback(store, 'set', 'fresh', cyclic)
    t.true(res.err instanceof TypeError, 'callback gets the TypeError')
    t.false(await exists(`${prefix}fresh`))
  })

  test(`${name}: set fails with exactly the error the serializer throws`, async (t) => {
    const prefix = uid(`serr-${name}`)
    const boom = new RangeError('serializer says no')
    const store = make(Store, {
      prefix,
      serializer: {
        stringify() {
          throw boom
        },
        parse: JSON.parse,
      },
    })
    const err = await t.throwsAsync(store.set('a', sess(1)))
    t.is(err, boom)
    t.false(await exists(`${prefix}a`))
  })
}
