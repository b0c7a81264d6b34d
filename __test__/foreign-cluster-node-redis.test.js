'use strict'
// The suites through node-redis 5, 4 and 6 `createCluster()` clients, each on its own Redis Cluster
// (3 primaries, 3 replicas): bulk operations scan every primary (`masters` / `nodeClient`),
// multi-key commands are grouped by slot.

const test = require('ava')
const { foreignSuite } = require('./helpers/foreign-suite')
const { cluster } = require('./helpers/foreign-targets')

function nodeRedisCluster(pkg) {
  return async (target) => {
    const { createCluster } = require(pkg)
    const client = createCluster({
      rootNodes: target.seeds.map(({ host, port }) => ({ url: `redis://${host}:${port}` })),
      defaults: { socket: { reconnectStrategy: () => 200 } },
    })
    await client.connect()
    return { client, quit: () => (client.close ? client.close() : client.quit()) }
  }
}

foreignSuite(test, { name: 'node-redis 5 createCluster', kind: 'node-redis cluster', target: cluster, connect: nodeRedisCluster('redis-5') })
foreignSuite(test, { name: 'node-redis 4 createCluster', kind: 'node-redis cluster', target: cluster, connect: nodeRedisCluster('redis-4') })
foreignSuite(test, { name: 'node-redis 6 createCluster', kind: 'node-redis cluster', target: cluster, connect: nodeRedisCluster('redis-6') })
