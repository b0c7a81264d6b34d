'use strict'
// The example app (examples/app.js) with its sessions on a Redis primary found through Sentinel;
// after a failover the store follows the new primary.
//
//   REDIS_SENTINELS=127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381 REDIS_SENTINEL_NAME=mymaster \
//     PORT=3000 node examples/sentinel-app.js
//
// REDIS_PASSWORD (and REDIS_USERNAME) authenticate on the data nodes, REDIS_SENTINEL_PASSWORD on
// the sentinels. Without REDIS_SENTINELS it starts a throwaway topology (a primary, a replica and
// three sentinels, from redis-server on free ports) and stops it on exit; then
//
//   curl -X POST localhost:3000/failover          -> SENTINEL FAILOVER on the throwaway topology
//
// and the sessions stay reachable.
//
//   curl -c jar -b jar localhost:3000/            -> { views: 1 }, then 2, 3...

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
  const candidates = [path.join(__dirname, 'redis-sentinel.js'), path.join(__dirname, '..', 'scripts', 'redis-sentinel.js')]
  const found = candidates.find((file) => fs.existsSync(file))
  if (!found) throw new Error('REDIS_SENTINELS is not set and no redis-sentinel.js launcher was found')
  return require(found)
}

function parseSentinels(list) {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
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
  let topology
  let sentinels
  let name = process.env.REDIS_SENTINEL_NAME || 'mymaster'
  if (process.env.REDIS_SENTINELS) {
    sentinels = parseSentinels(process.env.REDIS_SENTINELS)
  } else {
    console.log('REDIS_SENTINELS is not set: starting a primary, a replica and three sentinels...')
    topology = await loadLauncher().startSentinel({ name })
    sentinels = topology.sentinels
    name = topology.name
    console.log(`  primary on port ${topology.primary.port}, replica on port ${topology.replica.port}`)
    console.log(`  sentinels on ports ${sentinels.map((s) => s.port).join(', ')}`)
  }

  const store = new RedisStore({
    sentinel: {
      sentinels,
      name,
      username: process.env.REDIS_USERNAME,
      password: process.env.REDIS_PASSWORD,
      sentinelPassword: process.env.REDIS_SENTINEL_PASSWORD,
    },
    logErrors: true,
  })
  store.on('connect', () => console.log(`redis connected (${store.client.address})`))
  store.on('disconnect', (err) => console.log(`redis disconnected: ${err && err.message}`))

  const app = createApp(store)
  if (topology) {
    app.post('/failover', async (req, res, next) => {
      try {
        res.json(await topology.failover())
      } catch (err) {
        next(err)
      }
    })
  }

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
    if (topology) await topology.close()
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

module.exports = { parseSentinels }
