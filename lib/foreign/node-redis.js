'use strict'
// Adapters for node-redis 4 and later (`redis` on npm: createClient, legacyMode, createCluster).
// Every function sends its command synchronously and returns the client's Promise.

const { NO_EXPIRY } = require('../ttl')

/** node-redis 4+ `createClient()`: `client.sendCommand(args)`. */
function standalone(client) {
  return commands((args) => client.sendCommand(args), {
    kind: 'node-redis',
    cluster: false,
    isReady: () => client.isReady === true,
    up: ['ready'],
    down: ['end', 'error', 'reconnecting'],
    scanners: async () => [(args) => client.sendCommand(args)],
  })
}

/** node-redis 4 with `legacyMode: true`: the promise API lives on `client.v4`. */
function legacy(client, v4) {
  return commands((args) => v4.sendCommand(args), {
    kind: 'node-redis legacyMode',
    cluster: false,
    isReady: () => client.isReady === true,
    up: ['ready'],
    down: ['end', 'error', 'reconnecting'],
    scanners: async () => [(args) => v4.sendCommand(args)],
  })
}

/**
 * node-redis `createCluster()`: each command is routed by its first key (every key of a
 * multi-key command is in one slot: the driver groups them); SCAN goes to every primary.
 */
function cluster(client) {
  return commands((args) => client.sendCommand(args[1], false, args), {
    kind: 'node-redis cluster',
    cluster: true,
    isReady: () => client.isOpen === true,
    up: ['connect'],
    down: ['disconnect'],
    // A node that fails or reconnects is not the cluster down: the driver asks the cluster.
    suspect: ['error', 'node-error', 'node-reconnecting'],
    probe: () => client.sendCommand(undefined, true, ['PING']),
    scanners: async () => {
      const nodes = await Promise.all(client.masters.map((master) => client.nodeClient(master)))
      return nodes.map((node) => (args) => node.sendCommand(args))
    },
  })
}

function commands(send, adapter) {
  return {
    ...adapter,
    keyPrefix: '',
    get: (key) => send(['GET', key]),
    set: (key, value, ttl) => send(ttl === NO_EXPIRY ? ['SET', key, value] : ['SET', key, value, 'EX', String(ttl)]),
    expire: (key, ttl) => send(['EXPIRE', key, String(ttl)]),
    del: (keys) => send(['DEL', ...keys]),
    unlink: (keys) => send(['UNLINK', ...keys]),
    mget: (keys) => send(['MGET', ...keys]),
    scanners: async () =>
      (await adapter.scanners()).map((sendTo) => (cursor, pattern, count) =>
        sendTo(['SCAN', String(cursor), 'MATCH', pattern, 'COUNT', String(count)]),
      ),
  }
}

module.exports = { standalone, legacy, cluster }
