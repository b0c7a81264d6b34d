'use strict'
// The suites through ioredis 5 and 4 Cluster clients, each on its own Redis Cluster (3 primaries, 3
// replicas): bulk operations scan every primary, multi-key commands are grouped by slot.

const test = require('ava')
const { foreignSuite } = require('./helpers/foreign-suite')
const { cluster } = require('./helpers/foreign-targets')

function ioredisCluster(pkg) {
  return async (target) => {
    const Redis = require(pkg)
    const client = new Redis.Cluster(target.seeds, { lazyConnect: true, clusterRetryStrategy: () => 200 })
    await client.connect()
    return { client, quit: () => client.quit() }
  }
}

foreignSuite(test, { name: 'ioredis 5 Cluster', kind: 'ioredis Cluster', target: cluster, connect: ioredisCluster('ioredis') })
foreignSuite(test, { name: 'ioredis 4 Cluster', kind: 'ioredis Cluster', target: cluster, connect: ioredisCluster('ioredis-4') })
