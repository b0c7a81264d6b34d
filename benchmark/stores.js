'use strict'
// The stores under test, each built the way its README says, behind one shape:
//   const { store, close } = await openStore(name, { host, port, prefix })
// Only the module of the store asked for is loaded, so a child process holds one store's code.

const STORES = {
  rs: { label: 'connect-redis-rs', short: 'rs', open: openRs },
  // The previous design, for the README's "what each step gained": every operation on the
  // background (tokio) connection. Only when named in --stores.
  'rs-bg': {
    label: 'connect-redis-rs with CONNECT_REDIS_RS_DIRECT=0 (background connection only)',
    short: 'rs, background only',
    open: openRsBackground,
    onRequest: true,
  },
  'cr10-node-redis': { label: 'connect-redis 10 + node-redis 5', short: 'cr10 + node-redis 5', open: openCr10NodeRedis },
  'cr10-ioredis': { label: 'connect-redis 10 + ioredis 5', short: 'cr10 + ioredis', open: openCr10Ioredis },
  cr3: { label: 'connect-redis 3.4.2 + node_redis 2.8', short: 'cr3 + node_redis 2.8', open: openCr3 },
  // HTTP runs only: a store that does no work (free-store.js), answering at once or in the next
  // turn: no store's cost can be lower, so their req/s against the anchor's is the most a store
  // could gain end to end (`noWork`, how it answers: targets.js judges the HTTP target by them).
  free: {
    label: 'a store that does no work, answering at once (sessions kept in a Map and handed back: no JSON, no Redis; benchmark/free-store.js)',
    short: 'no-work store, at once',
    open: () => require('./free-store').openFreeStore(),
    httpOnly: true,
    noWork: 'answering at once',
  },
  'free-next-turn': {
    label: "the same store that does no work, answering a turn's calls together in the next turn (setImmediate, as replies read together would be)",
    short: 'no-work store, next turn',
    open: () => require('./free-store').openFreeStore({ nextTurn: true }),
    httpOnly: true,
    noWork: 'in the next turn',
  },
  // express-session's own MemoryStore: no Redis, but a JSON.parse per get and touch and a
  // JSON.stringify per set and touch. Only when named in --stores.
  memory: { label: "express-session's MemoryStore (no Redis)", short: 'MemoryStore', open: openMemory, httpOnly: true, onRequest: true },
  // Bulk runs (and the get floor beside the ceiling) only: all() and get() as JSON.parse of values
  // already in memory, the floor of all()'s stall and of get's rate.
  'parse-floor': {
    label: 'JSON.parse of the same sessions already in memory (no store, no Redis): all() 1,000 per turn, the floor of its stall; get, the floor of its rate',
    short: 'parse only (floor)',
    open: (options) => require('./parse-floor').openParseFloor(options),
    bulkOnly: true,
  },
  // The get floor beside the ceiling only: the same, each get returning the Promise SPEC.md asks
  // of every store method.
  'parse-floor-promise': {
    label: 'JSON.parse of the same sessions already in memory, each get returning a Promise as SPEC.md asks of every store method (no store, no Redis): the floor of get\'s rate for a store that keeps SPEC',
    short: 'parse + Promise (floor)',
    open: (options) => require('./parse-floor').openParseFloor({ ...options, promisePerCall: true }),
    bulkOnly: true,
    onRequest: true,
  },
}
const STORE_NAMES = Object.keys(STORES)

/** The best JS store at a given number of operations in flight: the anchor of every ratio. */
function anchorFor(inflight) {
  return inflight <= 1 ? 'cr3' : 'cr10-node-redis'
}

/** The anchor's cell for the same placement, size, in flight and op as cell `c`. */
function anchorCell(cells, c) {
  return cells.find((x) => x.store === c.anchor && x.placement === c.placement && x.size === c.size && x.inflight === c.inflight && x.op === c.op)
}

async function openStore(name, { host = '127.0.0.1', port, prefix }) {
  const entry = STORES[name]
  if (!entry) throw new Error(`unknown store ${name}; one of ${STORE_NAMES.join(', ')}`)
  const opened = await entry.open({ host, port, prefix })
  // A store is ready when an operation has gone through it.
  await new Promise((resolve, reject) => opened.store.get('warmup-ping', (err) => (err ? reject(err) : resolve())))
  return opened
}

async function openRs({ host, port, prefix }) {
  const { RedisStore } = require('..')
  const store = new RedisStore({ host, port, prefix })
  return { store, close: () => store.close() }
}

async function openRsBackground(options) {
  process.env.CONNECT_REDIS_RS_DIRECT = '0'
  return openRs(options)
}

async function openMemory() {
  const { MemoryStore } = require('express-session')
  return { store: new MemoryStore(), close: async () => {} }
}

async function openCr10NodeRedis({ host, port, prefix }) {
  const { RedisStore } = require('connect-redis-10')
  const { createClient } = require('redis-5')
  const client = createClient({ socket: { host, port } })
  client.on('error', (err) => console.error('node-redis:', err.message))
  await client.connect()
  const store = new RedisStore({ client, prefix })
  return { store, close: () => client.quit() }
}

async function openCr10Ioredis({ host, port, prefix }) {
  const { RedisStore } = require('connect-redis-10')
  const Redis = require('ioredis')
  const client = new Redis({ host, port, lazyConnect: true })
  client.on('error', (err) => console.error('ioredis:', err.message))
  await client.connect()
  const store = new RedisStore({ client: ioredisAdapter(client), prefix })
  return { store, close: () => client.quit() }
}

async function openCr3({ host, port, prefix }) {
  const RedisStore = require('connect-redis-3')(require('express-session'))
  const store = new RedisStore({ host, port, prefix })
  store.client.on('error', (err) => console.error('node_redis:', err.message))
  return { store, close: () => new Promise((resolve) => store.client.quit(() => resolve())) }
}

/**
 * connect-redis 10 speaks node-redis 5's API. These are exactly the calls its index.ts makes:
 * get, set(key, val, { expiration: { type: 'EX', value } }), expire, del([keys]), mGet(keys) and
 * scanIterator({ MATCH, COUNT }) yielding arrays of keys (it checks `'masters' in client` for a
 * cluster, which this object does not have).
 */
function ioredisAdapter(redis) {
  return {
    get: (key) => redis.get(key),
    set(key, value, options) {
      const exp = options && options.expiration
      return exp ? redis.set(key, value, exp.type, exp.value) : redis.set(key, value)
    },
    expire: (key, seconds) => redis.expire(key, seconds),
    del: (keys) => redis.del(keys),
    mGet: (keys) => redis.mget(keys),
    async *scanIterator({ MATCH, COUNT }) {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', MATCH, 'COUNT', COUNT)
        cursor = next
        if (keys.length > 0) yield keys
      } while (cursor !== '0')
    },
  }
}

module.exports = { STORES, STORE_NAMES, anchorFor, anchorCell, openStore }
