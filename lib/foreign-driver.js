'use strict'
// The driver for a client the application already has (node_redis 2.x/3.x, node-redis 4/5,
// ioredis): the same primitive operations as lib/native-driver.js, every command sent through
// the user's own client. Keys, glob escaping and chunk sizes come from the native helpers.

const { EventEmitter } = require('node:events')
const { defaults, scanPattern, sessionKey } = require('./binding')
const { invalid } = require('./store-options')
const { EXPIRED, NO_EXPIRY } = require('./ttl')

const { maxKeysPerCommand } = defaults()

/** A function `send(args) → Promise<reply>` for the client's API, or null. */
function commandSender(client) {
  if (client.v4 && typeof client.v4.sendCommand === 'function') {
    return (args) => client.v4.sendCommand(args) // node-redis 4 with legacyMode
  }
  if (typeof client.sendCommand === 'function' && ('isOpen' in client || typeof client.scanIterator === 'function')) {
    return (args) => client.sendCommand(args) // node-redis 4 / 5
  }
  if (typeof client.call === 'function' && typeof client.pipeline === 'function') {
    return (args) => client.call(...args) // ioredis
  }
  if (typeof client.send_command === 'function') {
    // node_redis 2.x / 3.x, and anything else with its callback API.
    return (args) =>
      new Promise((resolve, reject) => {
        client.send_command(args[0], args.slice(1), (err, reply) => (err ? reject(err) : resolve(reply)))
      })
  }
  return null
}

function isCluster(client) {
  return client.isCluster === true || (typeof client.nodes === 'function' && 'slots' in client) || Array.isArray(client.masters)
}

/** Whether the client says it can take commands right now. */
function isReady(client) {
  if (typeof client.isReady === 'boolean') return client.isReady
  if (typeof client.status === 'string') return client.status === 'ready'
  return Boolean(client.ready || client.connected)
}

class ForeignDriver extends EventEmitter {
  constructor(client) {
    super()
    if (isCluster(client)) {
      throw invalid('client', 'a standalone client (cluster clients are not supported yet: use one node per store)', client)
    }
    const send = commandSender(client)
    if (!send) {
      throw invalid(
        'client',
        'a Redis client (node_redis, node-redis or ioredis); this object has none of sendCommand, call or send_command',
        client,
      )
    }
    this._send = send
    this.client = client
    this.connected = isReady(client)
    this._listeners = {
      ready: () => this._up(),
      end: (err) => this._down(err),
      close: (err) => this._down(err),
      reconnecting: (err) => this._down(err),
      // Without a listener an 'error' event on the user's client would crash the process.
      error: (err) => this._down(err),
    }
    if (typeof client.on === 'function') {
      for (const [event, fn] of Object.entries(this._listeners)) client.on(event, fn)
    }
  }

  _up() {
    if (this.connected) return
    this.connected = true
    this.emit('connect')
  }

  _down(err) {
    const wasConnected = this.connected
    this.connected = false
    if (wasConnected || err instanceof Error) {
      this.emit('disconnect', err instanceof Error ? err : new Error('connect-redis-rs: the Redis client disconnected'))
    }
  }

  detach() {
    if (typeof this.client.removeListener !== 'function') return
    for (const [event, fn] of Object.entries(this._listeners)) this.client.removeListener(event, fn)
  }

  _run(args, done, shape) {
    let sent
    try {
      sent = this._send(args)
    } catch (err) {
      return done(err)
    }
    Promise.resolve(sent).then((reply) => done(null, shape ? shape(reply) : reply), (err) => done(err))
  }

  get(prefix, sid, done) {
    this._run(['GET', sessionKey(prefix, sid)], done, (reply) => (reply == null ? null : String(reply)))
  }

  set(prefix, sid, value, ttl, done) {
    const key = sessionKey(prefix, sid)
    if (ttl === EXPIRED) return this._run(['DEL', key], done, () => 'OK')
    const args = ttl === NO_EXPIRY ? ['SET', key, value] : ['SET', key, value, 'EX', String(ttl)]
    this._run(args, done)
  }

  expire(prefix, sid, ttl, done) {
    const key = sessionKey(prefix, sid)
    const args = ttl === EXPIRED ? ['DEL', key] : ['EXPIRE', key, String(ttl)]
    this._run(args, done, (n) => Math.min(Number(n), 1))
  }

  destroy(prefix, sids, done) {
    this._each('DEL', sids.map((sid) => sessionKey(prefix, sid)), done)
  }

  ids(prefix, scanCount, done) {
    this._scan(prefix, scanCount).then((keys) => done(null, keys.map((k) => k.slice(prefix.length))), done)
  }

  all(prefix, scanCount, done) {
    this._scan(prefix, scanCount)
      .then(async (keys) => {
        const flat = []
        for (let i = 0; i < keys.length; i += maxKeysPerCommand) {
          const chunk = keys.slice(i, i + maxKeysPerCommand)
          const values = await this._send(['MGET', ...chunk])
          chunk.forEach((key, j) => {
            if (values[j] != null) flat.push(key.slice(prefix.length), String(values[j]))
          })
        }
        return flat
      })
      .then((flat) => done(null, flat), done)
  }

  clear(prefix, scanCount, done) {
    this._scan(prefix, scanCount).then((keys) => this._each('UNLINK', keys, done), done)
  }

  _each(command, keys, done) {
    const chunks = []
    for (let i = 0; i < keys.length; i += maxKeysPerCommand) chunks.push(keys.slice(i, i + maxKeysPerCommand))
    Promise.all(chunks.map((chunk) => this._send([command, ...chunk])))
      .then((counts) => done(null, counts.reduce((sum, n) => sum + Number(n), 0)), done)
  }

  async _scan(prefix, scanCount) {
    const pattern = scanPattern(prefix)
    const seen = new Set()
    let cursor = '0'
    do {
      const [next, keys] = await this._send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(scanCount)])
      for (const key of keys) seen.add(String(key))
      cursor = String(next)
    } while (cursor !== '0')
    return [...seen]
  }
}

module.exports = { ForeignDriver }
