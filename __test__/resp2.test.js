'use strict'
// A server without RESP3 (before Redis 6, or with HELLO disabled): the store falls back to
// RESP2 and finds a dropped idle connection by pinging it.

const test = require('ava')
const { named } = require('./helpers/forms')
const { waitFor, useRedis } = require('./helpers/redis')

const r = useRedis(test, { args: ['--rename-command', 'HELLO', ''] })

test.serial('without HELLO the store still connects and every operation works', async (t) => {
  t.regex(await r.cli('HELLO', '3').catch((err) => err.message), /unknown command/i)
  const store = new named({ port: r.port })
  try {
    t.is(await store.set('a', { n: 1 }), 'OK')
    t.deepEqual(await store.get('a'), { n: 1 })
    t.is(await store.touch('a', { cookie: { maxAge: 5000 } }), 1)
    t.deepEqual(await store.ids(), ['a'])
    t.is(await store.destroy('a'), 1)
  } finally {
    await store.close()
  }
})

test.serial('without RESP3 a server that goes away while idle is noticed, and its return too', async (t) => {
  const store = new named({ port: r.port })
  const events = []
  store.on('connect', () => events.push('connect'))
  store.on('disconnect', () => events.push('disconnect'))
  try {
    await waitFor(() => events.includes('connect'))
    await r.stop()
    const stoppedAt = Date.now()
    await waitFor(() => events.includes('disconnect'), { timeout: 4000 })
    t.true(Date.now() - stoppedAt < 3000, 'the health check finds the drop within a few seconds')
    await r.start()
    await waitFor(() => events.filter((e) => e === 'connect').length === 2, { timeout: 4000 })
    t.is(await store.set('back', { n: 2 }), 'OK')
  } finally {
    await store.close()
  }
})
