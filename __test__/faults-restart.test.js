'use strict'
// Issue 5, item 1: redis-server is killed (SIGKILL) under load and restarted on the same port
// after 1 s, with appendonly yes / appendfsync always. Every acknowledged write must be readable
// at the end (a ledger), only operations in flight during the outage may fail (README "When
// Redis misbehaves": "operations in flight during the drop fail with ERR_REDIS_CONNECTION"),
// and operations succeed again within 1 s of Redis accepting connections.

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { named: RedisStore } = require('./helpers/forms')
const { rawCommands } = require('./helpers/redis')
const { sleep, timed, recordEvents, waitListening, countBy, closeQuietly } = require('../scripts/fault-tools')

const WRITERS = 6
const READERS = 3
const TOUCHERS = 2
const LOAD_BEFORE_MS = 1500
const DOWN_MS = 1000
const LOAD_AFTER_MS = 2500
const RECOVERY_MS = 1000

test('restart under load: no acknowledged write lost, errors only during the outage, recovery within 1 s', async (t) => {
  t.timeout(60000)
  const r = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'ledger:' })
  const events = recordEvents(store)
  try {
    await store.set('warmup', { cookie: {} })

    const ops = []
    const acked = new Map() // sid -> JSON written and acknowledged
    const hot = Array.from({ length: WRITERS }, () => ({ acked: 0, attempted: 0 }))
    const badReads = []
    let running = true
    const pad = 'p'.repeat(200)

    async function writer(w) {
      for (let i = 0; running; i++) {
        const sid = `w${w}-${i}`
        const sess = { cookie: { originalMaxAge: 3600000, path: '/' }, w, i, pad }
        const rec = await timed(store, 'set', [sid, sess])
        ops.push(rec)
        if (rec.ok) acked.set(sid, JSON.stringify(sess))
        if (i % 3 === 0) {
          // An overwritten key: the final value must be at least the last acknowledged version.
          const version = ++hot[w].attempted
          const h = await timed(store, 'set', [`hot${w}`, { cookie: {}, version }], { label: 'set hot' })
          ops.push(h)
          if (h.ok) hot[w].acked = version
        }
        if (i % 5 === 0) ops.push(await timed(store, 'destroy', [`never-written-${w}-${i}`]))
        await pause(rec)
      }
    }

    // Back to the event loop; after a failure wait a little, as a request-driven app would.
    const pause = (rec) => (rec.ok ? new Promise(setImmediate) : sleep(2))

    function pick() {
      if (acked.size === 0) return undefined
      const keys = [...acked.keys()]
      return keys[Math.floor(Math.random() * keys.length)]
    }

    async function reader() {
      while (running) {
        const sid = pick()
        if (sid === undefined) {
          await sleep(5)
          continue
        }
        const rec = await timed(store, 'get', [sid])
        ops.push(rec)
        if (rec.ok && JSON.stringify(rec.value) !== acked.get(sid)) {
          badReads.push({ sid, got: rec.value, at: rec.end })
        }
        await pause(rec)
      }
    }

    async function toucher() {
      while (running) {
        const sid = pick()
        if (sid === undefined) {
          await sleep(5)
          continue
        }
        const rec = await timed(store, 'touch', [sid, { cookie: { originalMaxAge: 3600000 } }])
        ops.push(rec)
        if (rec.ok && rec.value !== 1) badReads.push({ sid, touch: rec.value, at: rec.end })
        await pause(rec)
      }
    }

    const workers = [
      ...Array.from({ length: WRITERS }, (_, w) => writer(w)),
      ...Array.from({ length: READERS }, () => reader()),
      ...Array.from({ length: TOUCHERS }, () => toucher()),
    ]

    await sleep(LOAD_BEFORE_MS)
    const killAt = Date.now()
    await r.stop('SIGKILL')
    await sleep(DOWN_MS)
    const listening = waitListening(r.host, r.port, 20000)
    const started = r.start()
    const acceptAt = await listening
    await started
    await sleep(LOAD_AFTER_MS)
    running = false
    await Promise.all(workers)

    const failed = ops.filter((o) => !o.ok)
    const hung = ops.filter((o) => o.hung)
    const outsideOutage = failed.filter((o) => !(o.end >= killAt && o.start < acceptAt + RECOVERY_MS))
    const firstOkAfter = ops
      .filter((o) => o.ok && o.end >= acceptAt)
      .reduce((m, o) => Math.min(m, o.end), Infinity)

    t.log(
      `${ops.length} operations (${acked.size} acknowledged session writes); killed at +0, Redis accepting again at +${acceptAt - killAt} ms; ` +
        `${failed.length} failed ${JSON.stringify(countBy(failed, (o) => `${o.method}:${o.err && o.err.code}`))}; ` +
        `first success ${firstOkAfter - acceptAt} ms after Redis accepted connections; ` +
        `slowest failure ${Math.max(0, ...failed.map((o) => o.ms))} ms (${failed.filter((o) => o.ms > 1000).length} over 1 s); ` +
        `events: ${events.map((e) => `${e.name}@${e.at - killAt}${e.err ? `(${e.err.code})` : ''}`).join(' ')}`,
    )

    t.is(hung.length, 0, 'no operation hung')
    t.true(ops.filter((o) => o.ok && o.end < killAt).length > 100, 'load was running before the kill')
    t.true(failed.length > 0, 'the outage was seen by the operations in flight (else the test did not test anything)')
    t.deepEqual(
      outsideOutage.map((o) => ({ method: o.method, start: o.start - killAt, end: o.end - killAt, err: o.err })),
      [],
      `errors only for operations in flight between the kill and ${RECOVERY_MS} ms after Redis accepted connections again (times relative to the kill)`,
    )
    t.deepEqual(
      Object.keys(countBy(failed, (o) => o.err.code)),
      failed.length ? ['ERR_REDIS_CONNECTION'] : [],
      'every failure is ERR_REDIS_CONNECTION (README: operations in flight during the drop)',
    )
    t.true(
      firstOkAfter - acceptAt <= RECOVERY_MS,
      `operations succeed again within ${RECOVERY_MS} ms of Redis accepting connections (took ${firstOkAfter - acceptAt} ms)`,
    )
    t.deepEqual(badReads, [], 'every successful read of an acknowledged write saw that write (never null)')
    t.true(events.some((e) => e.name === 'disconnect' && e.at >= killAt), "'disconnect' after the kill")
    t.true(events.some((e) => e.name === 'connect' && e.at >= acceptAt), "'connect' after the restart")

    // The ledger: every acknowledged write is on the restarted server, byte for byte.
    const sids = [...acked.keys()]
    const lost = []
    for (let i = 0; i < sids.length; i += 1000) {
      const chunk = sids.slice(i, i + 1000)
      const [values] = await rawCommands(r, [['MGET', ...chunk.map((s) => `ledger:${s}`)]])
      chunk.forEach((sid, j) => {
        const v = values[j] === null ? null : values[j].toString()
        if (v !== acked.get(sid)) lost.push({ sid, expected: acked.get(sid).slice(0, 60), got: v && v.slice(0, 60) })
      })
    }
    t.deepEqual(lost.slice(0, 20), [], `all ${sids.length} acknowledged writes are readable after the restart (${lost.length} missing)`)
    for (let w = 0; w < WRITERS; w++) {
      const [raw] = await rawCommands(r, [['GET', `ledger:hot${w}`]])
      const version = raw === null ? 0 : JSON.parse(raw.toString()).version
      t.true(
        version >= hot[w].acked && version <= hot[w].attempted,
        `hot${w}: stored version ${version} is between the last acknowledged (${hot[w].acked}) and the last attempted (${hot[w].attempted})`,
      )
    }
    // and through the store
    const sample = sids.filter((_, i) => i % Math.max(1, Math.floor(sids.length / 200)) === 0)
    const read = await Promise.all(sample.map((sid) => store.get(sid)))
    t.deepEqual(
      sample.filter((sid, i) => JSON.stringify(read[i]) !== acked.get(sid)),
      [],
      `a sample of ${sample.length} acknowledged sessions reads back through the store`,
    )
  } finally {
    await closeQuietly(store)
    await r.close()
  }
})
