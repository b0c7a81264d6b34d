'use strict'
// Issue 5, item 2: redis-server frozen with SIGSTOP for 8 s. README "When Redis misbehaves":
// "Redis stops answering: every operation fails after commandTimeout (ERR_REDIS_TIMEOUT)"; an
// operation waiting for a connection attempt fails with ERR_REDIS_CONNECTION. Every operation
// must settle within commandTimeout + 10% with a clear message and `code`, none may hang, and
// after SIGCONT everything works again (with replies matched to the right operations).

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { named: RedisStore } = require('./helpers/forms')
const { sleep, timed, recordEvents, countBy, closeQuietly } = require('../scripts/fault-tools')

const COMMAND_TIMEOUT = 2000
const LIMIT = COMMAND_TIMEOUT * 1.1
const FREEZE_MS = 8000
const SPACING_MS = 100

test('SIGSTOP for 8 s: every operation fails within commandTimeout + 10% with a clear error; all work after SIGCONT', async (t) => {
  t.timeout(60000)
  const r = await startRedis()
  const store = new RedisStore({ host: r.host, port: r.port, prefix: 'freeze:', commandTimeout: COMMAND_TIMEOUT })
  const events = recordEvents(store)
  const address = `${r.host}:${r.port}`
  let frozen = false
  try {
    const sess = (n) => ({ cookie: { originalMaxAge: 3600000 }, n })
    for (let i = 0; i < 20; i++) await store.set(`s${i}`, sess(i))

    // One operation of every kind, in turn, every SPACING_MS: from 1 s before the freeze to
    // 3 s after it ends.
    const kinds = [
      ['get', () => ['s1']],
      ['set', (i) => [`n${i}`, sess(i)]],
      ['touch', () => ['s2', sess(2)]],
      ['destroy', (i) => [`gone${i}`]],
      ['ids', () => []],
      ['length', () => []],
      ['all', () => []],
      ['clear', () => []], // on a prefix with no keys: must not delete the sessions above
    ]
    const empty = new RedisStore({ client: store.client, prefix: 'freeze-empty:' })
    const pending = []
    let i = 0
    let stopAt
    let contAt
    const launcher = (async () => {
      const until = () => contAt !== undefined && Date.now() > contAt + 3000
      while (!until()) {
        const [method, args] = kinds[i % kinds.length]
        const target = method === 'clear' ? empty : store
        pending.push(timed(target, method, args(i), { guardMs: 20000 }))
        i++
        await sleep(SPACING_MS)
      }
    })()

    await sleep(1000)
    stopAt = Date.now()
    r.signal('SIGSTOP')
    frozen = true
    await sleep(FREEZE_MS)
    r.signal('SIGCONT')
    frozen = false
    contAt = Date.now()
    await launcher
    const ops = await Promise.all(pending)

    const during = ops.filter((o) => o.start >= stopAt && o.start + LIMIT < contAt)
    const slow = ops.filter((o) => o.hung || o.ms > LIMIT)
    const wrong = during.filter((o) => o.ok || !['ERR_REDIS_TIMEOUT', 'ERR_REDIS_CONNECTION'].includes(o.err.code))
    const unclear = during.filter((o) => !o.ok && !(o.err.message.startsWith('connect-redis-rs:') && o.err.message.includes(address)))
    const after = ops.filter((o) => o.start >= contAt + 1000)
    const firstOkAfter = ops.filter((o) => o.ok && o.end >= contAt).reduce((m, o) => Math.min(m, o.end), Infinity)

    t.log(
      `${ops.length} operations, ${during.length} started during the freeze: ` +
        `${JSON.stringify(countBy(during, (o) => (o.ok ? 'ok' : o.err.code)))}; ` +
        `slowest ${Math.max(...ops.map((o) => o.ms ?? Infinity))} ms; ` +
        `first success ${firstOkAfter - contAt} ms after SIGCONT; ` +
        `after SIGCONT+1s: ${JSON.stringify(countBy(after, (o) => (o.ok ? 'ok' : o.err.code)))}; ` +
        `events: ${events.map((e) => `${e.name}@${e.at - stopAt}${e.err ? `(${e.err.code})` : ''}`).join(' ')}`,
    )
    for (const code of ['ERR_REDIS_TIMEOUT', 'ERR_REDIS_CONNECTION']) {
      const sample = during.find((o) => !o.ok && o.err.code === code)
      if (sample) t.log(`example: ${sample.method} after ${sample.ms} ms: ${code}: ${sample.err.message}`)
    }

    t.true(during.length >= 50, 'operations were issued throughout the freeze')
    t.deepEqual(
      slow.map((o) => ({ method: o.method, start: o.start - stopAt, ms: o.ms, hung: o.hung })),
      [],
      `every operation settled within ${LIMIT} ms (commandTimeout + 10%); start times relative to SIGSTOP`,
    )
    t.deepEqual(
      wrong.map((o) => ({ method: o.method, start: o.start - stopAt, ok: o.ok, err: o.err })),
      [],
      'every operation started during the freeze failed with ERR_REDIS_TIMEOUT or ERR_REDIS_CONNECTION',
    )
    t.deepEqual(
      unclear.map((o) => o.err.message),
      [],
      `every error message names the package and the address ${address}`,
    )
    t.true(after.length >= 10, 'operations were issued after SIGCONT')
    t.deepEqual(
      after.filter((o) => !o.ok).map((o) => ({ method: o.method, start: o.start - contAt, err: o.err })),
      [],
      'every operation started 1 s after SIGCONT or later succeeded',
    )
    t.true(firstOkAfter - contAt <= 1000, `operations succeed within 1 s of SIGCONT (${firstOkAfter - contAt} ms)`)

    // Replies still line up with their operations after the late replies of the timed-out ones.
    await store.set('check', sess(42))
    const [a, b, c] = await Promise.all([store.get('check'), store.get('s3'), store.get('missing')])
    t.deepEqual([a, b, c], [sess(42), sess(3), null], 'after the freeze every reply goes to its own operation')
    const ids = await store.ids()
    t.is(ids.filter((id) => /^s\d+$/.test(id)).length, 20, 'the sessions written before the freeze are all there')
  } finally {
    if (frozen) r.signal('SIGCONT')
    await closeQuietly(store)
    await r.close()
  }
})
