'use strict'
// The lifecycle suite through node_redis 2.8 and 3.1 (the callback API connect-redis 3.x was
// written for), and through an object that is no known client but offers node_redis's callback
// methods: it is used the node_redis way. Each on its own redis-server.

const test = require('ava')
const { foreignSuite } = require('./helpers/foreign-suite')
const { standalone } = require('./helpers/foreign-targets')

const NODE_REDIS_2 = 'connect-redis-3/node_modules/redis'

function nodeRedisCallbacks(pkg, wrap = (c) => c) {
  return async (target) => {
    const inner = require(pkg).createClient(target.port, target.host, { retry_strategy: () => 100 })
    await new Promise((resolve, reject) => {
      inner.once('ready', resolve)
      inner.once('error', reject)
    })
    return { client: wrap(inner), quit: () => new Promise((resolve) => inner.quit(() => resolve())) }
  }
}

/** A plain object with node_redis's callback methods and events, and nothing else. */
function lookalike(inner) {
  const obj = {}
  for (const m of ['get', 'set', 'expire', 'del', 'scan', 'mget']) obj[m] = (...args) => inner[m](...args)
  obj.on = (event, fn) => (inner.on(event, fn), obj)
  obj.removeListener = (event, fn) => (inner.removeListener(event, fn), obj)
  Object.defineProperty(obj, 'ready', { get: () => inner.ready })
  return obj
}

foreignSuite(test, { name: 'node_redis 2.8', kind: 'node_redis', target: standalone, connect: nodeRedisCallbacks(NODE_REDIS_2) })
foreignSuite(test, { name: 'node_redis 3.1', kind: 'node_redis', target: standalone, connect: nodeRedisCallbacks('redis-3') })
foreignSuite(test, {
  name: 'a node_redis look-alike',
  kind: 'node_redis',
  target: standalone,
  connect: nodeRedisCallbacks('redis-3', lookalike),
})
