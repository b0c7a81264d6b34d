'use strict'
// The session store: express-session's Store API on top of a driver (lib/native-driver.js).
// One implementation serves both API forms; `form` is 'factory' (connect-redis 3.x) or
// 'class' (connect-redis 10), and only the ttl function's arguments differ between them.

const { AllParser } = require('./all-parser')
const { Call } = require('./callback')
const { defaults } = require('./binding')
const { ForeignDriver } = require('./foreign-driver')
const { NativeDriver } = require('./native-driver')
const { stringifySession } = require('./session-json')
const { storeOptions, invalid } = require('./store-options')
const { expiryFor, EXPIRED } = require('./ttl')

const DEFAULT_TTL = defaults().ttl

/** Session ids are strings; anything else becomes one, as `prefix + sid` made it in
 * connect-redis. (`String()` of a string is skipped: a builtin call per operation.) */
function sidText(sid) {
  return typeof sid === 'string' ? sid : String(sid)
}

// What a call makes of the driver's result (see StoreCall#complete).
const GET = 0
const SET = 1
const LENGTH = 2
// touch, destroy, ids, clear: the driver's value as it is.
const AS_IS = 3

function defineStore(Store, form) {
  const unobserved = form === 'factory'

  /** One call of a store method; the driver completes it (lib/native-driver.js). */
  class StoreCall extends Call {
    constructor(store, kind, sid, callback) {
      super(callback, store._onCallbackThrow, unobserved)
      this._store = store
      this._kind = kind
      this._sid = sid
    }

    complete(err, value, corrupt) {
      const store = this._store
      if (err) return this.finish(store._failed(err))
      switch (this._kind) {
        case GET:
          if (corrupt) return this.finish(null, store._corrupt(this._sid, corrupt))
          if (value === null) return this.finish(null, null)
          return store._parse(this._sid, value, this)
        case SET:
          return this.finish(null, 'OK')
        case LENGTH:
          return this.finish(null, value.length)
        default:
          return this.finish(null, value)
      }
    }
  }

  class RedisStore extends Store {
    constructor(options = {}) {
      super(options)
      Object.assign(this, storeOptions(options))
      const { driver, owned } = driverFor(options)
      // The user's own client on the foreign path, the native client otherwise.
      this.client = driver instanceof ForeignDriver ? driver.client : driver
      this._driver = driver
      this._ownsClient = owned
      this._onConnect = () => this.emit('connect')
      this._onDisconnect = (err) => {
        this._report(err)
        this.emit('disconnect', err)
      }
      driver.on('connect', this._onConnect)
      driver.on('disconnect', this._onDisconnect)
      this._onCallbackThrow = (err) => this._callbackThrew(err)
    }

    // Each method starts its call inside try/catch: whatever throws there (a serializer, a
    // session that is not one) ends the call with that error instead of escaping.

    get(sid, callback) {
      sid = sidText(sid)
      const call = new StoreCall(this, GET, sid, callback)
      try {
        this._driver.get(this.prefix, sid, call)
      } catch (err) {
        call.finish(err)
      }
      return call.promise
    }

    set(sid, sess, callback) {
      sid = sidText(sid)
      const expiry = expiryFor(this, sess, sid, form)
      const call = new StoreCall(this, SET, sid, callback)
      try {
        if (sess == null) {
          throw new TypeError(`connect-redis-rs: set(sid, session) needs a session, got ${sess}`)
        }
        const { serializer } = this
        const value = expiry === EXPIRED ? '' : serializer === JSON ? stringifySession(sess) : serializer.stringify(sess)
        if (typeof value !== 'string') {
          throw invalid('serializer', 'an object whose stringify returns a string; it returned', value)
        }
        this._driver.set(this.prefix, sid, value, expiry, call)
      } catch (err) {
        call.finish(err)
      }
      return call.promise
    }

    touch(sid, sess, callback) {
      if (this.disableTouch || this.disableTTL) {
        const call = new StoreCall(this, AS_IS, undefined, callback)
        call.finish(null, 0)
        return call.promise
      }
      sid = sidText(sid)
      const expiry = expiryFor(this, sess, sid, form)
      const call = new StoreCall(this, AS_IS, sid, callback)
      try {
        this._driver.expire(this.prefix, sid, expiry, call)
      } catch (err) {
        call.finish(err)
      }
      return call.promise
    }

    destroy(sid, callback) {
      const call = new StoreCall(this, AS_IS, undefined, callback)
      try {
        const sids = Array.isArray(sid) ? sid.map(sidText) : [sidText(sid)]
        this._driver.destroy(this.prefix, sids, call)
      } catch (err) {
        call.finish(err)
      }
      return call.promise
    }

    ids(callback) {
      return this._bulk(AS_IS, callback, (call) => this._driver.ids(this.prefix, this.scanCount, call))
    }

    length(callback) {
      return this._bulk(LENGTH, callback, (call) => this._driver.ids(this.prefix, this.scanCount, call))
    }

    all(callback) {
      return this._bulk(AS_IS, callback, (call) => {
        const parser = new AllParser(this.serializer, (sid, err) => this._corrupt(sid, err), (err, sessions) => call.finish(err, sessions))
        const done = {
          complete: (err, flat) => {
            if (!err) return parser.add(flat, true)
            parser.stop()
            call.finish(this._failed(err))
          },
        }
        this._driver.all(this.prefix, this.scanCount, done, (part) => parser.add(part, false))
      })
    }

    clear(callback) {
      return this._bulk(AS_IS, callback, (call) => this._driver.clear(this.prefix, this.scanCount, call))
    }

    /** A bulk call (rare: a closure is fine here), started by `send(call)`. */
    _bulk(kind, callback, send) {
      const call = new StoreCall(this, kind, undefined, callback)
      try {
        send(call)
      } catch (err) {
        call.finish(err)
      }
      return call.promise
    }

    /** Stops listening to the client, and closes it if this store created it. */
    close() {
      this._driver.removeListener('connect', this._onConnect)
      this._driver.removeListener('disconnect', this._onDisconnect)
      if (this._driver instanceof ForeignDriver) this._driver.detach()
      return this._ownsClient ? this._driver.quit() : Promise.resolve('OK')
    }

    _parse(sid, raw, call) {
      let parsed
      try {
        parsed = this.serializer.parse(raw)
      } catch (err) {
        return call.finish(null, this._corrupt(sid, err))
      }
      // JSON.parse never returns a thenable; looking for `then` on every session costs a
      // generic property lookup.
      if (this.serializer !== JSON && parsed && typeof parsed.then === 'function') {
        parsed.then((sess) => call.finish(null, sess), (err) => call.finish(null, this._corrupt(sid, err)))
      } else {
        call.finish(null, parsed)
      }
    }

    _corrupt(sid, err) {
      this._report(err)
      this.emit('corrupt', sid, err)
      return null
    }

    _failed(err) {
      this._report(err)
      return err
    }

    _report(err) {
      const { logErrors } = this
      if (logErrors === true) {
        console.error('connect-redis-rs:', err)
      } else if (typeof logErrors === 'function') {
        try {
          logErrors(err)
        } catch {}
      }
    }

    _callbackThrew(err) {
      // Rethrowing would crash the process from inside a Redis reply; report it instead.
      if (this.logErrors) this._report(err)
      else process.emitWarning(err)
    }
  }
  // The TTL option lives in `_ttl` (read by the TTL rule). connect-redis 10 shows 86400 in
  // `store.ttl` when none was given; 3.x showed what was given.
  Object.defineProperty(RedisStore.prototype, 'ttl', {
    configurable: true,
    get() {
      return form === 'class' && this._ttl === undefined ? DEFAULT_TTL : this._ttl
    },
    set(value) {
      this._ttl = value
    },
  })
  return RedisStore
}

function driverFor(options) {
  const client = options && options.client
  if (client == null) return { driver: new NativeDriver(options || {}), owned: true }
  if (client instanceof NativeDriver) return { driver: client, owned: false }
  if (typeof client !== 'object' && typeof client !== 'function') {
    throw invalid('client', 'a client from createClient() or a node_redis, node-redis or ioredis client', client)
  }
  return { driver: new ForeignDriver(client), owned: false }
}

module.exports = { defineStore }
