'use strict'
// The lifecycle suite through ioredis 4 and 5 clients, each on its own redis-server, and a
// client with ioredis's `keyPrefix`.

const test = require('ava')
const { foreignSuite } = require('./helpers/foreign-suite')
const { standalone } = require('./helpers/foreign-targets')
const { forms } = require('./helpers/forms')
const { uid } = require('./helpers/redis')

function ioredis(pkg, extra = {}) {
  return async (target) => {
    const Redis = require(pkg)
    const client = new Redis(target.port, target.host, { lazyConnect: true, retryStrategy: () => 100, ...extra })
    await client.connect()
    return { client, quit: () => client.quit() }
  }
}

foreignSuite(test, { name: 'ioredis 4', kind: 'ioredis', target: standalone, connect: ioredis('ioredis-4') })
foreignSuite(test, { name: 'ioredis 5', kind: 'ioredis', target: standalone, connect: ioredis('ioredis') })

test('ioredis keyPrefix: keys are keyPrefix + prefix + sid, and ids/all/clear see exactly those', async (t) => {
  const target = await standalone()
  const { client, quit } = await ioredis('ioredis', { keyPrefix: 'app{1}*:' })(target)
  try {
    for (const { Store } of forms) {
      const prefix = uid('kp')
      const store = new Store({ client, prefix })
      await store.set('a', { n: 1 })
      await store.set('b', { n: 2 })
      await target.cli('SET', `${prefix}c`, JSON.stringify({ n: 3 })) // not under keyPrefix
      await target.cli('SET', `app{1}x:${prefix}d`, JSON.stringify({ n: 4 })) // another keyPrefix
      t.is(await target.cli('GET', `app{1}*:${prefix}a`), JSON.stringify({ n: 1 }))
      t.deepEqual((await store.ids()).sort(), ['a', 'b'])
      t.deepEqual((await store.all()).map((s) => `${s.id}${s.n}`).sort(), ['a1', 'b2'])
      t.is((await store.get('b')).n, 2)
      t.is(await store.destroy(['a', 'c']), 1)
      t.is(await store.clear(), 1)
      t.is(await target.cli('EXISTS', `${prefix}c`, `app{1}x:${prefix}d`), '2')
      await store.close()
    }
  } finally {
    await quit()
    await target.close()
  }
})
