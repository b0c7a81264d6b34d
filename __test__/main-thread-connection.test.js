'use strict'
// The main-thread connection (README "How it works"): get/set/touch/destroy go over a socket
// that Node's own event loop polls; the background connection beside it supervises and runs
// the bulk operations. These tests pin down what that adds: which connection does what, the
// retry rule when the main-thread connection breaks with commands in flight, a value larger
// than the socket buffers, the CONNECT_REDIS_RS_DIRECT=0 switch, and a Worker that exits with
// the connection open.

const path = require('node:path')
const { spawnSync } = require('node:child_process')
const test = require('ava')
const { named: RedisStore } = require('./helpers/forms')
const { useRedis, waitFor } = require('./helpers/redis')
const { storeConnections, connectionRole, NATIVE_CONNECTIONS, closeQuietly } = require('../scripts/fault-tools')

const r = useRedis(test)
const sess = (n) => ({ cookie: { originalMaxAge: 3600000 }, n })

async function pairReady(store) {
  await store.set('warm', sess(0))
  return waitFor(async () => {
    await store.get('warm')
    return (await storeConnections(r)).clients.length === NATIVE_CONNECTIONS
  })
}

test.serial('get/set/touch/destroy run on the main-thread connection, bulk operations on the background one', async (t) => {
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'roles:' })
  try {
    t.true(await pairReady(store), 'two connections once the main-thread one is attached')
    const last = async () => {
      const { clients } = await storeConnections(r)
      return Object.fromEntries(clients.map((c) => [connectionRole(c), c.cmd]))
    }
    await store.get('a')
    t.is((await last())['main-thread'], 'get')
    await store.set('a', sess(1))
    t.is((await last())['main-thread'], 'set')
    await store.touch('a', sess(1))
    t.is((await last())['main-thread'], 'expire')
    await store.destroy('a')
    t.is((await last())['main-thread'], 'del')
    await store.length()
    t.is((await last()).background, 'scan')
  } finally {
    await closeQuietly(store)
  }
})

test.serial('the main-thread connection killed with commands in flight: the GET is resent, the SET fails and is not applied', async (t) => {
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'inflight:', commandTimeout: 3000 })
  try {
    await store.set('a', sess(1))
    t.true(await pairReady(store))
    const main = (await storeConnections(r)).clients.find((c) => connectionRole(c) === 'main-thread')
    // Redis holds the SET, and the GET queued behind it on the same connection.
    await r.cli('CLIENT', 'PAUSE', '1500', 'WRITE')
    const write = store.set('a', sess(2)).then((v) => ({ ok: true, v }), (err) => ({ ok: false, err }))
    const read = store.get('a').then((v) => ({ ok: true, v }), (err) => ({ ok: false, err }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.is(await r.cli('CLIENT', 'KILL', 'ID', main.id), '1')
    const [w, g] = await Promise.all([write, read])
    t.false(w.ok, 'the SET in flight fails (it is never resent: it could overwrite a newer write)')
    t.is(w.err && w.err.code, 'ERR_REDIS_CONNECTION')
    t.true(g.ok, `the GET in flight is resent on the background connection (${g.err && g.err.message})`)
    t.deepEqual(g.v, sess(1))
    await r.cli('CLIENT', 'UNPAUSE')
    t.deepEqual(await store.get('a'), sess(1), 'the failed SET was not applied')
  } finally {
    await r.cli('CLIENT', 'UNPAUSE').catch(() => {})
    await closeQuietly(store)
  }
})

test.serial('a 20 MB session goes through the main-thread connection whole (partial writes and reads)', async (t) => {
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'big:' })
  try {
    t.true(await pairReady(store))
    const big = { cookie: { originalMaxAge: 3600000 }, blob: 'x'.repeat(20 * 1024 * 1024) }
    const small = sess(3)
    const [setBig, setSmall] = await Promise.all([store.set('big', big), store.set('small', small)])
    t.is(setBig, 'OK')
    t.is(setSmall, 'OK')
    const [gotBig, gotSmall] = await Promise.all([store.get('big'), store.get('small')])
    t.is(gotBig.blob.length, big.blob.length)
    t.deepEqual(gotSmall, small, 'the reply after a large one is matched to its own operation')
  } finally {
    await closeQuietly(store)
  }
})

test.serial('replies of many large sessions, read one chunk per poll, each reach their own operation', async (t) => {
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'burst:' })
  try {
    t.true(await pairReady(store))
    // 300 sessions of ~20 KB: ~6 MB of replies, about a hundred 64 KB reads.
    const sessions = Array.from({ length: 300 }, (_, i) => ({ ...sess(i), blob: String(i % 10).repeat(20000 + i) }))
    const acks = await Promise.all(sessions.map((s, i) => store.set(`s${i}`, s)))
    t.true(acks.every((ack) => ack === 'OK'))
    const got = await Promise.all(sessions.map((_, i) => store.get(`s${i}`)))
    const wrong = got.map((g, i) => (g && g.n === i && g.blob === sessions[i].blob ? -1 : i)).filter((i) => i >= 0)
    t.deepEqual(wrong, [], 'every get has its own session, whole')
  } finally {
    await closeQuietly(store)
  }
})

test.serial('CONNECT_REDIS_RS_DIRECT=0 keeps every operation on the background connection', async (t) => {
  process.env.CONNECT_REDIS_RS_DIRECT = '0'
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'nodirect:' })
  try {
    await store.set('a', sess(1))
    t.deepEqual(await store.get('a'), sess(1))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const { clients } = await storeConnections(r)
    t.deepEqual(clients.map(connectionRole), ['background'])
  } finally {
    delete process.env.CONNECT_REDIS_RS_DIRECT
    await closeQuietly(store)
  }
})

test('a Worker that exits with its store open does not take the process down', (t) => {
  const script = `
    const { Worker } = require('node:worker_threads')
    const code = \`
      const RedisStore = require(${JSON.stringify(path.join(__dirname, '..'))})(require('express-session'))
      const store = new RedisStore({ host: '${r.host}', port: ${r.port}, prefix: 'worker:' })
      const sess = { cookie: { originalMaxAge: 60000 }, n: 1 }
      ;(async () => {
        for (let i = 0; i < 50; i++) { await store.set('a', sess); await store.get('a') }
        store.get('a', () => {})
        process.exit(0)
      })()
    \`
    const w = new Worker(code, { eval: true })
    w.on('exit', (code) => { console.log('worker exit', code); setTimeout(() => console.log('main alive'), 100) })
  `
  const out = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 20000 })
  t.log(`status ${out.status} signal ${out.signal}; stdout ${JSON.stringify(out.stdout)}; stderr ${JSON.stringify(out.stderr.slice(0, 500))}`)
  t.is(out.signal, null, 'no abort')
  t.is(out.status, 0)
  t.regex(out.stdout, /worker exit 0\nmain alive/)
})

test('a closed store and its client can be garbage collected', (t) => {
  const script = `
    const RedisStore = require(${JSON.stringify(path.join(__dirname, '..'))})(require('express-session'))
    const collected = new Set()
    const registry = new FinalizationRegistry((name) => collected.add(name))
    async function useAndClose(i) {
      const store = new RedisStore({ host: '${r.host}', port: ${r.port}, prefix: 'gc:' })
      for (let k = 0; k < 20; k++) { await store.set('a', { cookie: { originalMaxAge: 60000 }, k }); await store.get('a') }
      registry.register(store.client, 'client ' + i)
      await store.close()
    }
    ;(async () => {
      for (let i = 0; i < 3; i++) await useAndClose(i)
      for (let round = 0; round < 20 && collected.size < 3; round++) {
        global.gc()
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      console.log(JSON.stringify([...collected].sort()))
    })()
  `
  const out = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 20000 })
  t.log(`status ${out.status}; stdout ${out.stdout.trim()}; stderr ${out.stderr.slice(0, 300)}`)
  t.is(out.status, 0)
  t.deepEqual(JSON.parse(out.stdout.trim() || '[]'), ['client 0', 'client 1', 'client 2'])
})

test.serial("a submit() that throws fails exactly its turn's operations; what their callbacks start goes out normally", async (t) => {
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'submit-throws:' })
  try {
    await store.set('a', sess(1))
    const driver = store.client
    const real = driver._submit
    driver._submit = () => {
      driver._submit = real
      throw new Error('submit failed')
    }
    let retried
    const failed = await Promise.allSettled([
      store.get('a', (err) => {
        if (err) retried = store.get('a')
      }),
      store.set('b', sess(2)),
      store.destroy('a'),
    ])
    t.deepEqual(failed.map((f) => f.status), ['fulfilled', 'rejected', 'rejected'], 'with a callback the Promise resolves')
    t.deepEqual(failed.slice(1).map((f) => f.reason.message), ['submit failed', 'submit failed'])
    t.deepEqual(await retried, sess(1), 'an operation started by the failed GET callback reaches Redis')
    t.is(await store.get('b'), null, 'the failed SET was never sent')
  } finally {
    await closeQuietly(store)
  }
})
