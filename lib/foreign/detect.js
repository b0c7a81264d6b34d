'use strict'
// Which kind of client the application passed as `client`, told by its shape, and the adapter
// the driver talks to. Anything that is none of the known clients but offers node_redis's
// callback methods is used the node_redis way; anything else is a TypeError that names what is
// missing.

const ioredis = require('./ioredis')
const nodeRedis = require('./node-redis')
const callbacks = require('./node-redis-callbacks')
const { invalid } = require('../store-options')

const fn = (value) => typeof value === 'function'

/** node-redis 4 `legacyMode`: `client.v4` holds the promise API (the getter throws otherwise). */
function legacyApi(client) {
  try {
    const v4 = client.v4
    return v4 && fn(v4.sendCommand) ? v4 : null
  } catch {
    return null
  }
}

function adapterFor(client) {
  if (client.isCluster === true && fn(client.nodes) && fn(client.call)) return ioredis.cluster(client)
  if ('masters' in client && fn(client.nodeClient) && fn(client.sendCommand)) return nodeRedis.cluster(client)
  const v4 = legacyApi(client)
  if (v4) return nodeRedis.legacy(client, v4)
  if (fn(client.call) && fn(client.pipeline) && typeof client.status === 'string') return ioredis.standalone(client)
  if (fn(client.sendCommand) && 'isOpen' in client) return nodeRedis.standalone(client)
  const missing = callbacks.missingMethods(client)
  if (missing.length === 0) return callbacks.adapter(client)
  throw invalid(
    'client',
    'a Redis client: a node-redis 4+ client or cluster (sendCommand), an ioredis client or Cluster (call), ' +
      `or an object with node_redis's callback methods (${callbacks.REQUIRED.join(', ')}); ` +
      `this one has no sendCommand, no call, and lacks ${missing.join(', ')}`,
    client,
  )
}

module.exports = { adapterFor }
