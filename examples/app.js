'use strict'
// A small express 5 app that keeps its sessions in Redis through connect-redis-rs.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node examples/app.js
//
// Without REDIS_URL it starts a throwaway redis-server on a free port and stops it on exit.
// The app, its routes and the shutdown are in session-app.js, shared with the other examples.
//
//   curl -c jar -b jar localhost:3000/            -> { views: 1 }, then 2, 3...
//   curl -c jar -b jar -X POST 'localhost:3000/login?user=alice'
//   curl -c jar -b jar localhost:3000/whoami      -> { user: 'alice' }
//   curl -c jar -b jar -X POST localhost:3000/logout

const { startApp, createApp, loadLauncher, runMain } = require('./session-app')

async function main() {
  let redis
  let url = process.env.REDIS_URL
  if (!url) {
    redis = await loadLauncher('redis-server.js', 'REDIS_URL').startRedis()
    url = redis.url
    console.log(`started redis-server on port ${redis.port} (pid ${redis.pid})`)
  }
  await startApp({ storeOptions: { url }, onClose: redis && (() => redis.close()) })
}

runMain(module, main)

module.exports = { createApp }
