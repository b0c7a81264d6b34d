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

const { startApp, loadLauncher, runMain, parseHostPort, splitList } = require('./session-app')

function parseSentinels(list) {
  return splitList(list).map(parseHostPort)
}

async function main() {
  let topology
  let sentinels
  let name = process.env.REDIS_SENTINEL_NAME || 'mymaster'
  if (process.env.REDIS_SENTINELS) {
    sentinels = parseSentinels(process.env.REDIS_SENTINELS)
  } else {
    console.log('REDIS_SENTINELS is not set: starting a primary, a replica and three sentinels...')
    topology = await loadLauncher('redis-sentinel.js', 'REDIS_SENTINELS').startSentinel({ name })
    sentinels = topology.sentinels
    name = topology.name
    console.log(`  primary on port ${topology.primary.port}, replica on port ${topology.replica.port}`)
    console.log(`  sentinels on ports ${sentinels.map((s) => s.port).join(', ')}`)
  }

  await startApp({
    storeOptions: {
      sentinel: {
        sentinels,
        name,
        username: process.env.REDIS_USERNAME,
        password: process.env.REDIS_PASSWORD,
        sentinelPassword: process.env.REDIS_SENTINEL_PASSWORD,
      },
    },
    describe: (store) => `redis connected (${store.client.address})`,
    routes: (app, store) => {
      store.on('disconnect', (err) => console.log(`redis disconnected: ${err && err.message}`))
      if (!topology) return
      app.post('/failover', async (req, res, next) => {
        try {
          res.json(await topology.failover())
        } catch (err) {
          next(err)
        }
      })
    },
    onClose: topology && (() => topology.close()),
  })
}

runMain(module, main)

module.exports = { parseSentinels }
