'use strict'
// connect-redis-rs: `require('connect-redis-rs')(session)` (the connect-redis 3.x factory) and
// `require('connect-redis-rs').RedisStore` (the connect-redis 10 class) over one implementation.

const { NativeDriver } = require('./lib/native-driver')
const { defineStore } = require('./lib/store')

const factoryStores = new WeakMap()
let namedStore

/** The connect-redis 3.x factory: takes the express-session module, returns the store class. */
function connectRedis(session) {
  const Store = session && session.Store
  if (typeof Store !== 'function') {
    throw new TypeError(
      "connect-redis-rs: pass the express-session module (anything with a Store class): require('connect-redis-rs')(require('express-session'))",
    )
  }
  let RedisStore = factoryStores.get(Store)
  if (!RedisStore) {
    RedisStore = defineStore(Store, 'factory')
    factoryStores.set(Store, RedisStore)
  }
  return RedisStore
}

/** A native client several stores can share: `new RedisStore({ client })`. */
function createClient(options) {
  return new NativeDriver(options)
}

function loadNamedStore() {
  if (!namedStore) {
    let session
    try {
      session = require('express-session')
    } catch (err) {
      throw new Error(
        `connect-redis-rs: RedisStore extends express-session's Store; install it (npm install express-session): ${err.message}`,
      )
    }
    namedStore = defineStore(session.Store, 'class')
  }
  return namedStore
}

Object.defineProperty(connectRedis, 'RedisStore', { enumerable: true, get: loadNamedStore })
connectRedis.createClient = createClient
connectRedis.default = connectRedis

module.exports = connectRedis
