// Supplied by connect-redis-rs's scripts/connect-redis-suites/run.js: connect-redis 10.0.0's
// tarball lacks testdata/server.ts, which index_test.ts imports. A throwaway redis-server on the
// free port the runner picked, stopped by pid.
import {createRequire} from "node:module"

const require = createRequire(import.meta.url)
const {startRedis} = require({{REPO}} + "/scripts/redis-server.js")

export const port = Number(process.env.CONNECT_REDIS_SUITE_PORT)
let server: any

export async function connect() {
  server = await startRedis({port})
}

export async function disconnect() {
  await server.close()
}
