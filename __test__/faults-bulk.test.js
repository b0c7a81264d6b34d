'use strict'
// all() and clear() send their MGET / UNLINK commands while the SCAN walk is still going, and
// all() hands its sessions to JavaScript in parts as the MGETs answer (src/bulk.rs). When the
// connection they run on is killed midway, the call fails once with ERR_REDIS_CONNECTION (the
// parts already delivered are not passed off as the whole result, nothing is left unhandled),
// and once the store has reconnected all() returns every session and clear() deletes the rest.
// The kill lands a quarter of the way through a call timed on the same data just before, and
// each test checks that it did land before the call ended.

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { named: RedisStore } = require('./helpers/forms')
const { rawCommands, waitFor } = require('./helpers/redis')
const { sleep, timed, storeConnections, connectionRole, closeQuietly } = require('../scripts/fault-tools')

const N = 60000
const PREFIX = 'fb:'
const sessFor = (i) => ({ cookie: { originalMaxAge: 3600000, httpOnly: true, path: '/' }, n: i })

let r
const unhandled = []
const onUnhandled = (reason) => unhandled.push(reason)

test.before(async () => {
  process.on('unhandledRejection', onUnhandled)
  r = await startRedis()
})

test.after.always(async () => {
  process.off('unhandledRejection', onUnhandled)
  if (r) await r.close()
})

async function populate() {
  const cmds = Array.from({ length: N }, (_, i) => ['SET', `${PREFIX}${i}`, JSON.stringify(sessFor(i)), 'EX', '3600'])
  const replies = await rawCommands(r, cmds)
  if (replies.some((x) => x !== 'OK')) throw new Error('populate failed')
}

/** Kills the store's background connection (the one bulk operations run on). */
async function killBackground() {
  const { clients } = await storeConnections(r)
  const victim = clients.find((c) => connectionRole(c) === 'background')
  if (!victim) throw new Error('no background connection in CLIENT LIST')
  return r.cli('CLIENT', 'KILL', 'ID', victim.id)
}

/**
 * Runs `method` with the background connection killed a quarter of `fullMs` (its time on the
 * same data) in, checks that the kill landed while it ran and that it failed once with
 * ERR_REDIS_CONNECTION, then waits for the store to answer again.
 */
async function failsWhenKilledMidway(t, store, method, fullMs) {
  const call = timed(store, method)
  await sleep(Math.max(1, Math.round(fullMs / 4)))
  const killedAt = Date.now()
  const killed = await killBackground()
  const outcome = await call
  t.log(`${method}() took ${fullMs} ms; killed after ${killedAt - outcome.start} ms; the call ended after ${outcome.ms} ms: ${outcome.ok ? `resolved` : outcome.err.code}`)
  t.is(killed, '1', 'the background connection was found and killed')
  t.true(outcome.end >= killedAt, `the kill landed while ${method}() was still running`)
  t.false(outcome.hung, `${method}() settled`)
  t.false(outcome.ok, `${method}() fails rather than report part of its work as the whole`)
  t.is(outcome.err && outcome.err.code, 'ERR_REDIS_CONNECTION')
  await waitFor(async () => (await timed(store, 'get', ['0'])).ok, { timeout: 5000 })
}

test.serial('all(): the connection killed midway fails the call once with ERR_REDIS_CONNECTION; after reconnecting all() returns every session', async (t) => {
  await populate()
  const store = new RedisStore({ host: r.host, port: r.port, prefix: PREFIX, commandTimeout: 3000 })
  try {
    const full = await timed(store, 'all')
    t.true(full.ok, 'all() before the kill')
    t.is(full.value.length, N)

    await failsWhenKilledMidway(t, store, 'all', full.ms)
    const again = await timed(store, 'all')
    t.true(again.ok, 'all() after reconnecting')
    t.is(again.value.length, N)
    t.is(new Set(again.value.map((s) => s.id)).size, N)
    t.true(again.value.every((s) => s.n === Number(s.id)))
    t.deepEqual(unhandled, [])
  } finally {
    await closeQuietly(store)
  }
})

test.serial('clear(): the connection killed midway fails the call with ERR_REDIS_CONNECTION; after reconnecting clear() deletes the rest', async (t) => {
  await populate()
  const timing = new RedisStore({ host: r.host, port: r.port, prefix: PREFIX })
  let fullMs
  try {
    // clear() deletes what it times: time it on a copy of the data under another prefix.
    const copy = Array.from({ length: N }, (_, i) => ['SET', `fbc:${i}`, JSON.stringify(sessFor(i)), 'EX', '3600'])
    await rawCommands(r, copy)
    timing.prefix = 'fbc:'
    const full = await timed(timing, 'clear')
    t.true(full.ok)
    t.is(full.value, N)
    fullMs = full.ms
  } finally {
    await closeQuietly(timing)
  }

  const store = new RedisStore({ host: r.host, port: r.port, prefix: PREFIX, commandTimeout: 3000 })
  try {
    await store.get('warm-up')
    await failsWhenKilledMidway(t, store, 'clear', fullMs)
    const left = await store.length()
    t.true(left > 0 && left < N, `the failed clear() deleted part of the sessions (${N - left} of ${N})`)
    t.is(await store.clear(), left, 'clear() after reconnecting deletes exactly the rest')
    t.is(await store.length(), 0)
    t.deepEqual(unhandled, [])
  } finally {
    await closeQuietly(store)
  }
})
