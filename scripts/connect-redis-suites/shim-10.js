// The module under test for connect-redis 10.0.0's index_test.ts (its `import ... from "./"`):
// this package.
export {RedisStore} from "connect-redis-rs"
