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

const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { createApp } = require('./app')

function loadStore() {
  try {
    return require('connect-redis-rs')
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'connect-redis-rs'")) throw err
    return require('..')
  }
}

function loadLauncher() {
  const candidates = [path.join(__dirname, 'redis-cluster.js'), path.join(__dirname, '..', 'scripts', 'redis-cluster.js')]
  const found = candidates.find((file) => fs.existsSync(file))
  if (!found) throw new Error('REDIS_CLUSTER is not set and no redis-cluster.js launcher was found')
  return require(found)
}

/** 'host:port,redis://host:port' -> seed list for the `cluster` option. */
function parseSeeds(list) {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (s.includes('://')) return s
      const i = s.lastIndexOf(':')
      return { host: s.slice(0, i) || '127.0.0.1', port: Number(s.slice(i + 1)) }
    })
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, () => resolve(server.address().port))
  })
}

async function main() {
  const { RedisStore } = loadStore()
  let cluster
  let seeds
  if (process.env.REDIS_CLUSTER) {
    seeds = parseSeeds(process.env.REDIS_CLUSTER)
  } else {
    console.log('REDIS_CLUSTER is not set: starting a cluster of 3 primaries and 3 replicas...')
    cluster = await loadLauncher().startCluster({ primaries: 3, replicasPerPrimary: 1 })
    seeds = cluster.seeds
    for (const n of cluster.nodes) console.log(`  redis-server ${n.role} on port ${n.port} (pid ${n.pid})`)
  }

  const store = new RedisStore({
    cluster: seeds,
    username: process.env.REDIS_USERNAME,
    password: process.env.REDIS_PASSWORD,
    readFromReplicas: process.env.REDIS_READ_FROM_REPLICAS === '1',
    logErrors: true,
  })
  store.on('connect', () => console.log('redis cluster connected'))

  const app = createApp(store)
  app.get('/sessions', async (req, res, next) => {
    try {
      res.json({ sessions: await store.length() })
    } catch (err) {
      next(err)
    }
  })

  const server = http.createServer(app)
  const port = await listen(server, process.env.PORT === undefined ? 3000 : Number(process.env.PORT))
  console.log(`listening on http://localhost:${port}`)

  let stopping = false
  async function shutdown(signal) {
    if (stopping) return
    stopping = true
    console.log(`${signal}: shutting down`)
    server.close()
    server.closeAllConnections()
    await store.close().catch((err) => console.error(`closing the store: ${err.message}`))
    if (cluster) await cluster.close()
    process.exit(0)
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

module.exports = { parseSeeds }
