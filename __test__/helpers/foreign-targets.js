'use strict'
// What a foreign-client suite runs against: its own redis-server, or its own Redis Cluster
// (3 primaries, 3 replicas). Each target is a topology of ./topology.js (cli, keys, monitor),
// plus what the suite needs to reach and disturb it:
//   url / host / port (standalone), seeds (cluster), primaryCount
//   stop() / start()   every server away / back (start waits until a cluster is stable again)
//   close()

const { startRedis } = require('../../scripts/redis-server')
const { standaloneRedis, clusterRedis } = require('./topology')

async function standalone(options) {
  const r = await startRedis(options)
  return {
    ...standaloneRedis(r),
    server: r,
    url: r.url,
    host: r.host,
    port: r.port,
    primaryCount: 1,
    stop: () => r.stop(),
    start: () => r.start(),
    close: () => r.close(),
  }
}

async function cluster(options = {}) {
  const { startCluster } = require('../../scripts/redis-cluster')
  const c = await startCluster({ primaries: 3, replicasPerPrimary: 1, ...options })
  return {
    ...clusterRedis(c),
    cluster: c,
    seeds: c.seeds,
    primaryCount: c.seeds.length,
    stop: () => Promise.all(c.nodes.map((n) => c.kill(n.port))),
    start: async () => {
      await Promise.all(c.nodes.map((n) => c.start(n.port)))
      await c.waitStable()
    },
    close: () => c.close(),
  }
}

module.exports = { standalone, cluster }
