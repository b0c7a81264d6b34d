'use strict'
// The example app (examples/app.js) with its sessions in a Redis Cluster.
//
//   REDIS_CLUSTER=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 PORT=3000 node examples/cluster-app.js
//
// REDIS_CLUSTER lists seed nodes (host:port, or redis:// / rediss:// URLs); one reachable node is
// enough, the store discovers the others. REDIS_USERNAME / REDIS_PASSWORD authenticate on every
// node; REDIS_READ_FROM_REPLICAS=1 sends reads to replicas. Without REDIS_CLUSTER it starts a
// throwaway cluster (3 primaries, 1 replica each, from redis-server on free ports) and stops it
// on exit.
//
//   curl -c jar -b jar localhost:3000/            -> { views: 1 }, then 2, 3...
//   curl -c jar -b jar -X POST 'localhost:3000/login?user=alice'
//   curl localhost:3000/sessions                  -> { sessions: N } (SCAN on every primary)

const { startApp, loadLauncher, runMain, parseHostPort, splitList } = require('./session-app')

/** 'host:port,redis://host:port' -> seed list for the `cluster` option. */
function parseSeeds(list) {
  return splitList(list).map((s) => (s.includes('://') ? s : parseHostPort(s)))
}

async function main() {
  let cluster
  let seeds
  if (process.env.REDIS_CLUSTER) {
    seeds = parseSeeds(process.env.REDIS_CLUSTER)
  } else {
    console.log('REDIS_CLUSTER is not set: starting a cluster of 3 primaries and 3 replicas...')
    cluster = await loadLauncher('redis-cluster.js', 'REDIS_CLUSTER').startCluster({ primaries: 3, replicasPerPrimary: 1 })
    seeds = cluster.seeds
    for (const n of cluster.nodes) console.log(`  redis-server ${n.role} on port ${n.port} (pid ${n.pid})`)
  }

  await startApp({
    storeOptions: {
      cluster: seeds,
      username: process.env.REDIS_USERNAME,
      password: process.env.REDIS_PASSWORD,
      readFromReplicas: process.env.REDIS_READ_FROM_REPLICAS === '1',
    },
    describe: () => 'redis cluster connected',
    routes: (app, store) => {
      app.get('/sessions', async (req, res, next) => {
        try {
          res.json({ sessions: await store.length() })
        } catch (err) {
          next(err)
        }
      })
    },
    onClose: cluster && (() => cluster.close()),
  })
}

runMain(module, main)

module.exports = { parseSeeds }
