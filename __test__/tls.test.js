'use strict'
// TLS with certificates generated here by openssl (scripts/tls-certs.js): a CA, a server
// certificate for 127.0.0.1/localhost, a client certificate, and an unrelated second CA.
// Servers listen on a TLS port only (--port 0 --tls-port P):
//   - a standalone server that does not ask for client certificates (--tls-auth-clients no),
//   - a standalone server that requires one (--tls-auth-clients yes),
//   - a 3+3 cluster with --tls-cluster yes --tls-replication yes,
//   - a sentinel topology where data nodes and sentinels all speak TLS.
// rediss:// URLs, tls: { ca, cert, key, rejectUnauthorized } (strings and Buffers), and the
// failures: no client certificate, a wrong CA, an address not in the certificate, plain TCP to a TLS
// port, each an operation error with ERR_REDIS_CONNECTION, a 'disconnect' event and no crash.

const test = require('ava')
const { RedisNode, freePort, startCluster, tempDir } = require('../scripts/redis-cluster')
const { startSentinel } = require('../scripts/redis-sentinel')
const { generateCerts } = require('../scripts/tls-certs')
const { named: RedisStore } = require('./helpers/forms')
const { uid, closeStore, sleep } = require('./helpers/redis')
const { sess, plain } = require('./helpers/lifecycle-suite')

let certs
let open // tls-auth-clients no
let strict // tls-auth-clients yes
let cluster
let sentinel
const stores = []

async function startTlsNode(tlsAuthClients) {
  const port = await freePort()
  const dir = tempDir('crr-tls-node-')
  // Also on 127.0.0.2, an address the server certificate does not name.
  const args = ['--bind', '127.0.0.1', '127.0.0.2']
  return new RedisNode({ port, dir, tls: certs, tlsAuthClients, name: `redis-${port}`, args }).start()
}

function make(opts) {
  const store = new RedisStore({ connectTimeout: 2000, commandTimeout: 3000, ...opts })
  stores.push(store)
  return store
}

test.before(async () => {
  certs = generateCerts()
  ;[open, strict, cluster, sentinel] = await Promise.all([
    startTlsNode('no'),
    startTlsNode('yes'),
    startCluster({ primaries: 3, replicasPerPrimary: 1, tls: certs }),
    startSentinel({ tls: certs }),
  ])
})

test.after.always(async () => {
  await Promise.all(stores.map(closeStore))
  await Promise.all([open, strict, cluster, sentinel].filter(Boolean).map((x) => x.close()))
  if (certs) certs.cleanup()
})

/** set / get / touch / ids / length / all / destroy / clear through a store; checks the server side with redis-cli. */
async function roundTrip(t, store, server) {
  const prefix = store.prefix
  t.is(await store.set('a', sess(1)), 'OK')
  t.is(await store.set('b', sess(2)), 'OK')
  t.deepEqual(await store.get('a'), plain(sess(1)))
  t.is(await store.touch('a', sess(1)), 1)
  t.deepEqual([...(await store.ids())].sort(), ['a', 'b'])
  t.is(await store.length(), 2)
  t.is((await store.all()).length, 2)
  if (server) t.is(await server.cli('GET', `${prefix}a`), JSON.stringify(sess(1)), 'the value is on the server')
  t.is(await store.destroy(['a']), 1)
  t.is(await store.clear(), 1)
}

/** Watches for crashes while fn runs: unhandled rejections and uncaught exceptions. */
async function noCrash(t, fn) {
  const seen = []
  const onRejection = (reason) => seen.push(`unhandledRejection: ${reason && reason.message}`)
  const onException = (err) => seen.push(`uncaughtException: ${err && err.message}`)
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  try {
    return await fn()
  } finally {
    await sleep(100)
    process.off('unhandledRejection', onRejection)
    process.off('uncaughtException', onException)
    t.deepEqual(seen, [], 'no unhandled rejection or uncaught exception')
  }
}

/** A store that cannot establish TLS: its operation fails with ERR_REDIS_CONNECTION, it emits 'disconnect', nothing crashes. */
async function rejected(t, opts, messageRe, label) {
  await noCrash(t, async () => {
    const store = make({ prefix: uid('rej'), ...opts })
    const disconnected = new Promise((resolve) => store.once('disconnect', resolve))
    const err = await t.throwsAsync(store.set('a', sess(1)), undefined, label)
    if (!err) return
    t.log(`${label}: ${err.code}: ${err.message}`)
    t.is(err.code, 'ERR_REDIS_CONNECTION', `${label}: ${err.message}`)
    if (messageRe) t.regex(err.message, messageRe, `${label}: the message says why`)
    const d = await Promise.race([disconnected, sleep(5000)])
    t.true(d instanceof Error, `${label}: a 'disconnect' event with the error`)
    const again = await t.throwsAsync(store.get('a'))
    if (again) t.is(again.code, 'ERR_REDIS_CONNECTION', `${label}: later operations fail the same way`)
  })
}

// ---- standalone ----

test('rediss:// URL with tls: { ca }', async (t) => {
  const store = make({ url: `rediss://127.0.0.1:${open.port}`, tls: { ca: certs.ca }, prefix: uid('url') })
  await roundTrip(t, store, open)
  t.true(store.client.connected)
  t.is(store.client.address, `127.0.0.1:${open.port}`)
})

test('host/port with tls: { ca } as a Buffer', async (t) => {
  await roundTrip(t, make({ host: '127.0.0.1', port: open.port, tls: { ca: Buffer.from(certs.ca) }, prefix: uid('buf') }), open)
})

test('tls: { ca, cert, key } offers a client certificate the server does not require', async (t) => {
  await roundTrip(t, make({ port: open.port, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, prefix: uid('ck') }), open)
})

test('host: "localhost" with tls: { ca } verifies the certificate by that name', async (t) => {
  await roundTrip(t, make({ host: 'localhost', port: open.port, tls: { ca: certs.ca }, prefix: uid('lh') }), open)
  await roundTrip(t, make({ url: `rediss://localhost:${open.port}`, tls: { ca: certs.ca }, prefix: uid('lhurl') }), open)
})

test('tls: { rejectUnauthorized: false } connects without a CA', async (t) => {
  await roundTrip(t, make({ port: open.port, tls: { rejectUnauthorized: false }, prefix: uid('insecure') }), open)
})

test('the factory form accepts tls too', async (t) => {
  const { factory } = require('./helpers/forms')
  const store = new factory({ url: `rediss://127.0.0.1:${open.port}`, tls: { ca: certs.ca }, prefix: uid('factory') })
  stores.push(store)
  await roundTrip(t, store, open)
})

test.serial('a wrong CA is rejected with a clear error (ERR_REDIS_CONNECTION, disconnect, no crash)', async (t) => {
  await rejected(t, { port: open.port, tls: { ca: certs.otherCa } }, /certificate|issuer|tls|handshake/i, 'wrong CA')
})

test.serial('tls: true trusts only the usual roots: a private CA is rejected', async (t) => {
  await rejected(t, { port: open.port, tls: true }, /certificate|issuer|tls|handshake/i, 'tls: true')
})

test.serial('an address that is not in the certificate is rejected (127.0.0.2: not in its subjectAltName)', async (t) => {
  await rejected(t, { host: '127.0.0.2', port: open.port, tls: { ca: certs.ca } }, /certificate|name|tls|handshake/i, 'name mismatch')
})

test.serial('plain TCP to a TLS-only port fails cleanly', async (t) => {
  await noCrash(t, async () => {
    const store = make({ port: open.port, prefix: uid('plain') })
    const err = await t.throwsAsync(store.set('a', sess(1)))
    if (err) t.true(['ERR_REDIS_CONNECTION', 'ERR_REDIS_TIMEOUT'].includes(err.code), `${err.code}: ${err.message}`)
  })
})

test('--tls-auth-clients yes: works with the client certificate (PEM strings, Buffers, rediss:// URL)', async (t) => {
  await roundTrip(t, make({ port: strict.port, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, prefix: uid('mtls') }), strict)
  await roundTrip(
    t,
    make({ port: strict.port, tls: { ca: Buffer.from(certs.ca), cert: Buffer.from(certs.clientCert), key: Buffer.from(certs.clientKey) }, prefix: uid('mtlsbuf') }),
    strict,
  )
  await roundTrip(t, make({ url: `rediss://127.0.0.1:${strict.port}`, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey }, prefix: uid('mtlsurl') }), strict)
})

test.serial('--tls-auth-clients yes: without a client certificate the store fails clearly', async (t) => {
  await rejected(t, { port: strict.port, tls: { ca: certs.ca } }, /certificate|tls|handshake|closed|reset|alert/i, 'no client certificate')
})

test.serial('--tls-auth-clients yes: a client certificate from another CA is refused', async (t) => {
  await rejected(t, { port: strict.port, tls: { ca: certs.ca, cert: certs.otherClientCert, key: certs.otherClientKey } }, /certificate|tls|handshake|closed|reset|alert/i, 'client certificate of another CA')
})

test('tls: { cert } without key (or key without cert) is a TypeError naming the option', (t) => {
  for (const tls of [{ cert: 'x' }, { key: 'y' }, { ca: 42 }, 'yes']) {
    const err = t.throws(() => new RedisStore({ port: open.port, tls }), { instanceOf: TypeError }, JSON.stringify(tls))
    if (err) {
      t.is(err.code, 'ERR_INVALID_ARG_VALUE', err.message)
      t.regex(err.message, /tls/, err.message)
    }
  }
})

// ---- cluster over TLS ----

test('cluster over TLS: rediss:// seeds with tls: { ca }', async (t) => {
  const store = make({ cluster: cluster.seedUrls, tls: { ca: certs.ca }, prefix: uid('ctls') })
  const ids = []
  for (let i = 0; i < 300; i++) ids.push(`s${i}`)
  await Promise.all(ids.map((id, i) => store.set(id, sess(i))))
  t.is(await store.length(), 300, 'ids found on every primary')
  t.deepEqual(await store.get('s42'), plain(sess(42)))
  t.is((await store.all()).length, 300)
  t.is(await store.destroy(ids.slice(0, 100)), 100, 'destroy([...]) across slots')
  t.is(await store.clear(), 200)
  for (const p of await cluster.primaries()) t.is(await p.server.cli('DBSIZE'), '0')
})

test('cluster over TLS: { host, port } seeds with tls: { ca }, and the lifecycle round trip', async (t) => {
  await roundTrip(t, make({ cluster: cluster.seeds, tls: { ca: certs.ca }, prefix: uid('ctls2') }))
})

test.serial('cluster over TLS with a wrong CA is rejected clearly', async (t) => {
  await rejected(t, { cluster: cluster.seeds, tls: { ca: certs.otherCa } }, /certificate|issuer|tls|handshake/i, 'cluster, wrong CA')
})

// ---- sentinel over TLS ----

// `sentinel.tls` is for the connections to the sentinels, the top-level `tls` for the data nodes.
test('sentinel over TLS: sentinel.tls for the sentinels, tls for the data nodes', async (t) => {
  const store = make({ sentinel: { sentinels: sentinel.sentinels, name: sentinel.name, tls: { ca: certs.ca } }, tls: { ca: certs.ca }, prefix: uid('stls') })
  await roundTrip(t, store, sentinel.primary)
})

test.serial('sentinel over TLS with a wrong CA for the sentinels is rejected clearly', async (t) => {
  await rejected(
    t,
    { sentinel: { sentinels: sentinel.sentinels, name: sentinel.name, tls: { ca: certs.otherCa } }, tls: { ca: certs.ca } },
    /certificate|issuer|tls|handshake/i,
    'sentinel, wrong CA',
  )
})
