'use strict'
// Adapters for ioredis 4 and 5 (`new Redis()` and `new Redis.Cluster()`), through the client's
// own command methods. Each function sends its command synchronously and returns its Promise.

const { NO_EXPIRY } = require('../ttl')

const UP = ['ready']
const DOWN = ['close', 'end', 'reconnecting', 'error']

/** ioredis adds `keyPrefix` to every key argument but not to a SCAN pattern nor its replies. */
function keyPrefixOf(client) {
  const options = client.options || {}
  const prefix = options.keyPrefix || (options.redisOptions && options.redisOptions.keyPrefix)
  return typeof prefix === 'string' ? prefix : ''
}

function commands(client, adapter) {
  return {
    ...adapter,
    keyPrefix: keyPrefixOf(client),
    isReady: () => client.status === 'ready',
    up: UP,
    down: DOWN,
    get: (key) => client.get(key),
    set: (key, value, ttl) => (ttl === NO_EXPIRY ? client.set(key, value) : client.set(key, value, 'EX', ttl)),
    expire: (key, ttl) => client.expire(key, ttl),
    del: (keys) => client.del(...keys),
    unlink: (keys) => client.unlink(...keys),
    mget: (keys) => client.mget(...keys),
  }
}

function scanWith(node) {
  return (cursor, pattern, count) => node.scan(String(cursor), 'MATCH', pattern, 'COUNT', count)
}

/** `new Redis()`. */
function standalone(client) {
  return commands(client, { kind: 'ioredis', cluster: false, scanners: async () => [scanWith(client)] })
}

/** `new Redis.Cluster()`: commands are routed by key; SCAN goes to every primary. */
function cluster(client) {
  return commands(client, {
    kind: 'ioredis Cluster',
    cluster: true,
    scanners: async () => client.nodes('master').map(scanWith),
    // Nodes it never used stay in its pool, so losing every node may not 'close' it: ask it.
    suspect: ['-node', 'node error'],
    probe: () => client.call('PING'),
  })
}

module.exports = { standalone, cluster }
