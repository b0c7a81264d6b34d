// The ESM entry: `import { RedisStore } from 'connect-redis-rs'` (connect-redis 10) and
// `import connectRedis from 'connect-redis-rs'` (the 3.x factory).
import connectRedis from './index.js'

export const RedisStore = connectRedis.RedisStore
export const createClient = connectRedis.createClient
export default connectRedis
