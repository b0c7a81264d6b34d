'use strict'
// The lifecycle suite through node-redis 4 (plain and legacyMode), 5 and 6 clients, each on its
// own redis-server.

const test = require('ava')
const { foreignSuite } = require('./helpers/foreign-suite')
const { standalone } = require('./helpers/foreign-targets')

const reconnect = { reconnectStrategy: () => 100 }

function nodeRedis(pkg, extra = {}) {
  return async (target) => {
    const client = require(pkg).createClient({ url: target.url, socket: reconnect, ...extra })
    await client.connect()
    return { client, quit: () => client.disconnect() }
  }
}

foreignSuite(test, { name: 'node-redis 4', kind: 'node-redis', target: standalone, connect: nodeRedis('redis-4') })
foreignSuite(test, {
  name: 'node-redis 4 legacyMode',
  kind: 'node-redis legacyMode',
  target: standalone,
  connect: nodeRedis('redis-4', { legacyMode: true }),
})
foreignSuite(test, { name: 'node-redis 5', kind: 'node-redis', target: standalone, connect: nodeRedis('redis-5') })
foreignSuite(test, { name: 'node-redis 6', kind: 'node-redis', target: standalone, connect: nodeRedis('redis-6') })
