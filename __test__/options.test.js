'use strict'
// Store and connection options (SPEC.md section 2), in both API forms, against a redis-server
// that requires a password and also listens on a unix socket.

const test = require('ava')
const { startRedis, freePort } = require('../scripts/redis-server')
const { forms } = require('./helpers/forms')
const { uid, monitor, closeStore, waitFor, syncOrAsyncError } = require('./helpers/redis')

const PW = 'opt-secret-pw'
let r
const stores = []

function track(store) {
  stores.push(store)
  return store
}

// Connection options for this file's server.
const base = () => ({ host: r.host, port: r.port, password: PW })

function make(Store, opts = {}) {
  return track(new Store({ ...base(), ...opts }))
}

const sess = (n) => ({ cookie: { originalMaxAge: null, httpOnly: true, path: '/' }, n })
const plain = (v) => JSON.parse(JSON.stringify(v))

test.before(async () => {
  r = await startRedis({ password: PW, unixSocket: true })
  await r.cli('ACL', 'SETUSER', 'alice', 'on', '>secret', '~sess:*', '+@all')
})

test.after.always(async () => {
  await Promise.all(stores.map(closeStore))
  if (r) await r.close()
})

for (const { name, Store } of forms) {
  test.serial(`${name}: defaults: prefix 'sess:', ttl 86400 without cookie, scanCount 100`, async (t) => {
    const store = make(Store)
    t.is(store.prefix, 'sess:')
    t.is(store.scanCount, 100)
    const sid = `defaults-${name}`
    const s = { foo: 'bar' }
    t.is(await store.set(sid, s), 'OK')
    t.is(await r.cli('GET', `sess:${sid}`), JSON.stringify(s), 'key is sess:<sid>, value JSON')
    const ttl = Number(await r.cli('TTL', `sess:${sid}`))
    t.true(ttl > 86390 && ttl <= 86400, `TTL without cookie is one day, got ${ttl}`)

    const mon = await monitor(r)
    t.true((await store.ids()).includes(sid))
    const entries = await mon.stop()
    const scans = entries.filter((e) => e.cmd === 'SCAN')
    t.true(scans.length > 0)
    for (const e of scans) {
      const upper = e.args.map((a) => a.toUpperCase())
      t.is(e.args[upper.indexOf('MATCH') + 1], 'sess:*', e.line)
      t.is(e.args[upper.indexOf('COUNT') + 1], '100', e.line)
    }
    await store.destroy(sid)
  })

  test.serial(`${name}: logErrors: true prints with console.error; default does not`, async (t) => {
    const prefix = uid(`logtrue-${name}`)
    const loud = make(Store, { prefix, logErrors: true })
    const quiet = make(Store, { prefix })
    await r.cli('SET', `${prefix}bad`, '{not json')
    const original = console.error
    const printed = []
    console.error = (...args) => printed.push(args)
    try {
      t.is(await quiet.get('bad'), null)
      await new Promise((resolve) => setTimeout(resolve, 100))
      t.is(printed.length, 0, 'logErrors off: nothing printed')
      t.is(await loud.get('bad'), null, 'a corrupt value reads as null')
      await waitFor(() => printed.length > 0)
    } finally {
      console.error = original
    }
    t.true(printed.length > 0, 'logErrors: true called console.error')
  })

  test(`${name}: prefix '' is kept`, async (t) => {
    const db = name === 'factory' ? 5 : 6
    const store = make(Store, { prefix: '', db })
    t.is(store.prefix, '')
    t.is(await store.set('plainkey', sess(1)), 'OK')
    t.is(await r.cli('-n', String(db), 'GET', 'plainkey'), JSON.stringify(sess(1)), 'key is the bare sid')
    t.deepEqual(await store.ids(), ['plainkey'])
    t.deepEqual(await store.get('plainkey'), plain(sess(1)))
    t.is(await store.clear(), 1)
  })

  test(`${name}: prefix null or undefined gives the default`, async (t) => {
    for (const prefix of [null, undefined]) {
      const store = make(Store, { prefix })
      t.is(store.prefix, 'sess:')
      const sid = `nullprefix-${name}-${prefix}`
      await store.set(sid, sess(1))
      t.is(await r.cli('EXISTS', `sess:${sid}`), '1')
      t.is(await store.destroy(sid), 1)
    }
  })

  test(`${name}: custom serializer writes its own format`, async (t) => {
    const prefix = uid(`ser-${name}`)
    const serializer = {
      stringify: (s) => `b64|${Buffer.from(JSON.stringify(s)).toString('base64')}`,
      parse: (str) => JSON.parse(Buffer.from(str.slice(4), 'base64').toString()),
    }
    const store = make(Store, { prefix, serializer })
    const s = { ...sess(1), text: 'ünï 😀' }
    t.is(await store.set('a', s), 'OK')
    t.is(await r.cli('GET', `${prefix}a`), serializer.stringify(s), 'raw value is the serializer output')
    t.deepEqual(await store.get('a'), plain(s))
    t.deepEqual(await store.all(), [{ ...plain(s), id: 'a' }])
  })

  test(`${name}: serializer.parse may return a Promise`, async (t) => {
    const prefix = uid(`aparse-${name}`)
    const serializer = {
      stringify: JSON.stringify,
      parse: async (str) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        return { ...JSON.parse(str), viaAsync: true }
      },
    }
    const store = make(Store, { prefix, serializer })
    await store.set('a', sess(1))
    await store.set('b', sess(2))
    const got = await store.get('a')
    t.deepEqual(got, { ...plain(sess(1)), viaAsync: true }, 'get resolves the parsed session, not a Promise')
    const all = await store.all()
    t.deepEqual(
      all.sort((x, y) => (x.id < y.id ? -1 : 1)),
      [
        { ...plain(sess(1)), viaAsync: true, id: 'a' },
        { ...plain(sess(2)), viaAsync: true, id: 'b' },
      ],
      'all() awaits async parse',
    )
  })

  test(`${name}: logErrors function is called with an Error for a corrupt value`, async (t) => {
    const prefix = uid(`logfn-${name}`)
    const errors = []
    const store = make(Store, { prefix, logErrors: (err) => errors.push(err) })
    await r.cli('SET', `${prefix}bad`, 'not json at all')
    t.is(await store.get('bad'), null)
    await waitFor(() => errors.length > 0)
    t.true(errors.length > 0, 'logErrors was called')
    t.true(errors[0] instanceof Error, `called with an Error, got ${errors[0]}`)
  })

  test(`${name}: logErrors function is called with an Error when the server is down`, async (t) => {
    const errors = []
    const port = await freePort()
    const store = track(
      new Store({ host: '127.0.0.1', port, logErrors: (err) => errors.push(err), connectTimeout: 500, commandTimeout: 1000 }),
    )
    const started = Date.now()
    const err = await t.throwsAsync(store.get('x'))
    t.true(Date.now() - started < 5000, 'fails promptly')
    t.truthy(err.message, 'the error has a message')
    t.is(typeof err.code, 'string', `the error has a code, got ${err.code}`)
    await waitFor(() => errors.length > 0)
    t.true(errors.length > 0, 'logErrors was called')
    t.true(errors.every((e) => e instanceof Error), 'every call got an Error')
  })

  for (const db of [3, '3']) {
    test(`${name}: db: ${JSON.stringify(db)} writes to database 3`, async (t) => {
      const prefix = uid(`db-${name}-${typeof db}`)
      const store = make(Store, { prefix, db })
      t.is(await store.set('a', sess(1)), 'OK')
      t.is(await r.cli('-n', '3', 'GET', `${prefix}a`), JSON.stringify(sess(1)), 'key is in db 3')
      t.is(await r.cli('EXISTS', `${prefix}a`), '0', 'key is not in db 0')
      t.deepEqual(await store.get('a'), plain(sess(1)))
      t.deepEqual(await store.ids(), ['a'])
    })
  }

  test(`${name}: password, and its node_redis alias pass`, async (t) => {
    for (const auth of [{ password: PW }, { pass: PW }]) {
      const prefix = uid(`pw-${name}`)
      const store = track(new Store({ host: r.host, port: r.port, prefix, ...auth }))
      t.is(await store.set('a', sess(1)), 'OK', JSON.stringify(Object.keys(auth)))
      t.is(await r.cli('GET', `${prefix}a`), JSON.stringify(sess(1)))
      t.deepEqual(await store.get('a'), plain(sess(1)))
    }
  })

  test(`${name}: without the password operations fail with a clear error`, async (t) => {
    const store = track(new Store({ host: r.host, port: r.port, commandTimeout: 2000 }))
    const err = await t.throwsAsync(store.get('x'))
    t.regex(err.message, /NOAUTH|auth/i)
  })

  test(`${name}: ACL username and password`, async (t) => {
    const prefix = `sess:alice-${name}-${uid('u')}`
    const store = track(new Store({ host: r.host, port: r.port, username: 'alice', password: 'secret', prefix }))
    t.is(await store.set('a', sess(1)), 'OK')
    t.is(await r.cli('GET', `${prefix}a`), JSON.stringify(sess(1)))
    t.deepEqual(await store.ids(), ['a'])
    // alice may only touch sess:* keys, so this proves the store is authenticated as alice
    store.prefix = 'other:'
    const err = await t.throwsAsync(store.set('a', sess(1)))
    t.regex(err.message, /NOPERM|permission/i)
  })

  test(`${name}: a wrong ACL password is a clear rejected operation and a disconnect event`, async (t) => {
    const disconnects = []
    const store = track(
      new Store({ host: r.host, port: r.port, username: 'alice', password: 'wrong', commandTimeout: 2000 }),
    )
    store.on('disconnect', (err) => disconnects.push(err))
    const err = await t.throwsAsync(store.get('x'))
    t.regex(err.message, /WRONGPASS|invalid username-password|auth/i)
    await waitFor(() => disconnects.length > 0)
    t.true(disconnects.length > 0, 'disconnect emitted')
  })

  test(`${name}: unix socket`, async (t) => {
    const prefix = uid(`sock-${name}`)
    const store = track(new Store({ socket: r.socket, password: PW, prefix }))
    t.is(await store.set('a', sess(1)), 'OK')
    t.is(await r.cli('GET', `${prefix}a`), JSON.stringify(sess(1)))
    t.deepEqual(await store.get('a'), plain(sess(1)))
  })

  test(`${name}: socket that parses as a URL is used as url`, async (t) => {
    const prefix = uid(`sockurl-${name}`)
    const store = track(new Store({ socket: `${r.url}/4`, prefix }))
    t.is(await store.set('a', sess(1)), 'OK')
    t.is(await r.cli('-n', '4', 'GET', `${prefix}a`), JSON.stringify(sess(1)))
  })

  test(`${name}: url redis://:password@host:port/db`, async (t) => {
    const prefix = uid(`url-${name}`)
    t.true(r.url.includes(encodeURIComponent(PW)))
    const store = track(new Store({ url: `${r.url}/4`, prefix }))
    t.is(await store.set('a', sess(1)), 'OK')
    t.is(await r.cli('-n', '4', 'GET', `${prefix}a`), JSON.stringify(sess(1)), 'key is in db 4')
    t.is(await r.cli('EXISTS', `${prefix}a`), '0')
    t.deepEqual(await store.get('a'), plain(sess(1)))
  })

  test(`${name}: url redis://user:password@host:port`, async (t) => {
    const prefix = `sess:url-alice-${name}-${uid('u')}`
    const store = track(new Store({ url: `redis://alice:secret@${r.host}:${r.port}`, prefix }))
    t.is(await store.set('a', sess(1)), 'OK')
    t.is(await r.cli('GET', `${prefix}a`), JSON.stringify(sess(1)))
  })

  test(`${name}: url unix://path?db=7`, async (t) => {
    const prefix = uid(`unixurl-${name}`)
    const store = track(new Store({ url: `unix://${r.socket}?db=7`, password: PW, prefix }))
    t.is(await store.set('a', sess(1)), 'OK')
    t.is(await r.cli('-n', '7', 'GET', `${prefix}a`), JSON.stringify(sess(1)), 'key is in db 7')
    t.deepEqual(await store.get('a'), plain(sess(1)))
  })

  test(`${name}: node_redis aliases (pass, connect_timeout, db) and unknown options`, async (t) => {
    const prefix = uid(`alias-${name}`)
    const store = track(
      new Store({
        host: r.host,
        port: r.port,
        pass: PW,
        connect_timeout: 2000,
        db: 3,
        prefix,
        no_ready_check: true,
        socket_keepalive: true,
        someUnknownOption: { whatever: 1 },
      }),
    )
    t.is(await store.set('a', sess(1)), 'OK')
    t.is(await r.cli('-n', '3', 'GET', `${prefix}a`), JSON.stringify(sess(1)))
    t.deepEqual(await store.get('a'), plain(sess(1)))
  })

  const invalid = [
    [{ ttl: {} }, /must be a number or function/],
    [{ ttl: 'abc' }, /must be a number or function/],
    [{ db: 'x' }, /\bdb\b/],
    [{ db: 1.5 }, /\bdb\b/],
    [{ port: 70000 }, /port[\s\S]*70000|70000[\s\S]*port/],
    [{ prefix: 5 }, /prefix/],
    [{ serializer: {} }, /serializer/],
    [{ serializer: { stringify: JSON.stringify } }, /serializer/],
    [{ scanCount: 0 }, /scanCount/],
    [{ scanCount: -5 }, /scanCount/],
    [{ scanCount: 2.5 }, /scanCount/],
    [{ url: 'not a url' }, /url[\s\S]*not a url|not a url[\s\S]*url/],
  ]
  for (const [opts, message] of invalid) {
    const label = JSON.stringify(opts, (k, v) => (typeof v === 'function' ? 'fn' : v))
    test(`${name}: invalid option ${label} is a TypeError at construction`, (t) => {
      t.throws(() => track(new Store({ ...base(), ...opts })), { instanceOf: TypeError, message })
    })
  }

  test(`${name}: ttl: 0 in the options means not set (one day)`, async (t) => {
    const prefix = uid(`ttl0-${name}`)
    const store = make(Store, { prefix, ttl: 0 })
    await store.set('a', { x: 1 })
    const ttl = Number(await r.cli('TTL', `${prefix}a`))
    t.true(ttl > 86390 && ttl <= 86400, `got ${ttl}`)
  })

  test(`${name}: store.ttl = {} after construction makes set and touch fail with TypeError`, async (t) => {
    const prefix = uid(`badttl-${name}`)
    const store = make(Store, { prefix })
    await store.set('a', sess(1))
    store.ttl = {}
    const e1 = await syncOrAsyncError(() => store.set('a', sess(1)))
    t.true(e1 instanceof TypeError, `set: ${e1}`)
    t.regex(String(e1 && e1.message), /must be a number or function/)
    const e2 = await syncOrAsyncError(() => store.touch('a', sess(1)))
    t.true(e2 instanceof TypeError, `touch: ${e2}`)
    t.regex(String(e2 && e2.message), /must be a number or function/)
  })
}
