'use strict'
// The driver for a client the application already has (node_redis 2.x/3.x, node-redis 4+ and
// its cluster, ioredis and its Cluster): the same primitive operations as lib/native-driver.js,
// every command sent through the user's own client by an adapter (lib/foreign/). Keys, glob
// escaping and chunk sizes come from the native helpers; on a cluster, multi-key commands are
// grouped by slot and SCAN runs on every primary.

const { EventEmitter } = require('node:events')
const { keyGroups, scanPattern, sessionKey } = require('./binding')
const { watch } = require('./foreign/connection')
const { adapterFor } = require('./foreign/detect')
const { asError } = require('./foreign/error')
const { EXPIRED } = require('./ttl')


class ForeignDriver extends EventEmitter {
  constructor(client) {
    super()
    this.client = client
    this._adapter = adapterFor(client)
    this._connection = watch(client, this._adapter, {
      onUp: () => this.emit('connect'),
      onDown: (err) => this.emit('disconnect', err),
    })
  }

  /** Which kind of client this is, e.g. 'ioredis Cluster'. */
  get kind() {
    return this._adapter.kind
  }

  get connected() {
    return this._connection.connected
  }

  detach() {
    this._connection.detach()
  }

  // Runs `send` (which calls the client synchronously) and completes `done` with its outcome.
  _run(send, done, shape) {
    let sent
    try {
      sent = send()
    } catch (err) {
      return done.complete(asError(err))
    }
    Promise.resolve(sent).then((reply) => done.complete(null, shape ? shape(reply) : reply), (err) => done.complete(asError(err)))
  }

  get(prefix, sid, done) {
    const key = sessionKey(prefix, sid)
    this._run(() => this._adapter.get(key), done, (reply) => (reply == null ? null : String(reply)))
  }

  set(prefix, sid, value, ttl, done) {
    const key = sessionKey(prefix, sid)
    if (ttl === EXPIRED) return this._run(() => this._adapter.del([key]), done, () => 'OK')
    this._run(() => this._adapter.set(key, value, ttl), done, () => 'OK')
  }

  expire(prefix, sid, ttl, done) {
    const key = sessionKey(prefix, sid)
    const send = ttl === EXPIRED ? () => this._adapter.del([key]) : () => this._adapter.expire(key, ttl)
    this._run(send, done, (n) => Math.min(Number(n), 1))
  }

  destroy(prefix, sids, done) {
    const keys = sids.map((sid) => sessionKey(prefix, sid))
    // Every chunk is sent now, in this tick, as one pipeline would be.
    this._run(() => Promise.all(this._chunks(keys).map((chunk) => this._adapter.del(chunk))), done, sum)
  }

  ids(prefix, scanCount, done) {
    this._scan(prefix, scanCount).then((keys) => done.complete(null, keys.map((k) => k.slice(prefix.length))), (err) => done.complete(asError(err)))
  }

  all(prefix, scanCount, done) {
    this._scan(prefix, scanCount)
      .then(async (keys) => {
        const flat = []
        for (const chunk of this._chunks(keys)) {
          const values = await this._adapter.mget(chunk)
          chunk.forEach((key, i) => {
            if (values[i] != null) flat.push(key.slice(prefix.length), String(values[i]))
          })
        }
        return flat
      })
      .then((flat) => done.complete(null, flat), (err) => done.complete(asError(err)))
  }

  clear(prefix, scanCount, done) {
    this._scan(prefix, scanCount)
      .then(async (keys) => {
        let deleted = 0
        for (const chunk of this._chunks(keys)) deleted += Number(await this._adapter.unlink(chunk))
        return deleted
      })
      .then((deleted) => done.complete(null, deleted), (err) => done.complete(asError(err)))
  }

  /** Bounded chunks of keys, each within one slot on a cluster (the rule lives in Rust). */
  _chunks(keys) {
    return keyGroups(keys, Boolean(this._adapter.cluster), this._adapter.keyPrefix)
  }

  /** Every key under `prefix` on every primary, once, as the client names them. */
  async _scan(prefix, scanCount) {
    const { keyPrefix } = this._adapter
    const pattern = scanPattern(keyPrefix + prefix)
    const seen = new Set()
    const scanners = await this._adapter.scanners()
    await Promise.all(
      scanners.map(async (scan) => {
        let cursor = '0'
        do {
          const [next, keys] = await scan(cursor, pattern, scanCount)
          for (const key of keys) seen.add(String(key).slice(keyPrefix.length))
          cursor = String(next)
        } while (cursor !== '0')
      }),
    )
    return [...seen]
  }
}


function sum(counts) {
  return counts.reduce((total, n) => total + Number(n), 0)
}

module.exports = { ForeignDriver }
