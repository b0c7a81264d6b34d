'use strict'
// The session store: express-session's Store API on top of a driver (lib/native-driver.js).
// One implementation serves both API forms; `form` is 'factory' (connect-redis 3.x) or
// 'class' (connect-redis 10), and only the ttl function's arguments differ between them.

const { AllParser } = require('./all-parser')
const { settle: settleObserved, settleUnobserved } = require('./callback')
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

function defineStore(Store, form) {
  const settle = form === 'factory' ? settleUnobserved : settleObserved
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

    get(sid, callback) {
      sid = sidText(sid)
      return settle(callback, this._onCallbackThrow, (done) => {
        this._driver.get(this.prefix, sid, (err, raw, corrupt) => {
          if (err) return done(this._failed(err))
          if (corrupt) return done(null, this._corrupt(sid, corrupt))
          if (raw === null) return done(null, null)
          this._parse(sid, raw, done)
        })
      })
    }

    set(sid, sess, callback) {
      sid = sidText(sid)
      const expiry = expiryFor(this, sess, sid, form)
      return settle(callback, this._onCallbackThrow, (done) => {
        if (sess == null) {
          throw new TypeError(`connect-redis-rs: set(sid, session) needs a session, got ${sess}`)
        }
        const { serializer } = this
        const value = expiry === EXPIRED ? '' : serializer === JSON ? stringifySession(sess) : serializer.stringify(sess)
        if (typeof value !== 'string') {
          throw invalid('serializer', 'an object whose stringify returns a string; it returned', value)
        }
        this._driver.set(this.prefix, sid, value, expiry, (err) => (err ? done(this._failed(err)) : done(null, 'OK')))
      })
    }

    touch(sid, sess, callback) {
      if (this.disableTouch || this.disableTTL) return settle(callback, this._onCallbackThrow, (done) => done(null, 0))
      sid = sidText(sid)
      const expiry = expiryFor(this, sess, sid, form)
      return settle(callback, this._onCallbackThrow, (done) => {
        this._driver.expire(this.prefix, sid, expiry, (err, touched) => (err ? done(this._failed(err)) : done(null, touched)))
      })
    }

    destroy(sid, callback) {
      return settle(callback, this._onCallbackThrow, (done) => {
        const sids = Array.isArray(sid) ? sid.map(sidText) : [sidText(sid)]
        this._driver.destroy(this.prefix, sids, (err, count) => (err ? done(this._failed(err)) : done(null, count)))
      })
    }

    ids(callback) {
      return settle(callback, this._onCallbackThrow, (done) => {
        this._driver.ids(this.prefix, this.scanCount, (err, ids) => (err ? done(this._failed(err)) : done(null, ids)))
      })
    }

    length(callback) {
      return settle(callback, this._onCallbackThrow, (done) => {
        this._driver.ids(this.prefix, this.scanCount, (err, ids) => (err ? done(this._failed(err)) : done(null, ids.length)))
      })
    }

    all(callback) {
      return settle(callback, this._onCallbackThrow, (done) => {
        const parser = new AllParser(this.serializer, (sid, err) => this._corrupt(sid, err), done)
        this._driver.all(
          this.prefix,
          this.scanCount,
          (err, flat) => {
            if (!err) return parser.add(flat, true)
            parser.stop()
            done(this._failed(err))
          },
          (part) => parser.add(part, false),
        )
      })
    }

    clear(callback) {
      return settle(callback, this._onCallbackThrow, (done) => {
        this._driver.clear(this.prefix, this.scanCount, (err, count) => (err ? done(this._failed(err)) : done(null, count)))
      })
    }

    /** Stops listening to the client, and closes it if this store created it. */
    close() {
      this._driver.removeListener('connect', this._onConnect)
      this._driver.removeListener('disconnect', this._onDisconnect)
      if (this._driver instanceof ForeignDriver) this._driver.detach()
      return this._ownsClient ? this._driver.quit() : Promise.resolve('OK')
    }

    _parse(sid, raw, done) {
      let parsed
      try {
        parsed = this.serializer.parse(raw)
      } catch (err) {
        return done(null, this._corrupt(sid, err))
      }
      // JSON.parse never returns a thenable; looking for `then` on every session costs a
      // generic property lookup.
      if (this.serializer !== JSON && parsed && typeof parsed.then === 'function') {
        parsed.then((sess) => done(null, sess), (err) => done(null, this._corrupt(sid, err)))
      } else {
        done(null, parsed)
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
