'use strict'
// The node_redis way (node_redis 2.x and 3.x, and any object that offers their callback
// methods): the calls connect-redis 3.x made, `client.set([key, value, 'EX', ttl], cb)` and the
// like, so a client that worked with connect-redis 3.x works here.

const { NO_EXPIRY } = require('../ttl')

/** The methods an object needs to be used the node_redis way. */
const REQUIRED = ['get', 'set', 'expire', 'del', 'scan', 'mget']

function missingMethods(client) {
  return REQUIRED.filter((name) => typeof client[name] !== 'function')
}

function call(client, method, ...args) {
  return new Promise((resolve, reject) => {
    client[method](...args, (err, reply) => (err ? reject(err) : resolve(reply)))
  })
}

function adapter(client) {
  const remove = (method) => (keys) => call(client, method, keys.length === 1 ? keys[0] : keys)
  return {
    kind: 'node_redis',
    cluster: false,
    // node_redis's `prefix` option: added to every key argument, not to SCAN's pattern or replies.
    keyPrefix: client.options && typeof client.options.prefix === 'string' ? client.options.prefix : '',
    isReady: () => Boolean(client.ready),
    up: ['ready'],
    down: ['end', 'error', 'reconnecting'],
    get: (key) => call(client, 'get', key),
    set: (key, value, ttl) => call(client, 'set', ttl === NO_EXPIRY ? [key, value] : [key, value, 'EX', ttl]),
    expire: (key, ttl) => call(client, 'expire', key, ttl),
    del: remove('del'),
    unlink: remove(typeof client.unlink === 'function' ? 'unlink' : 'del'),
    mget: (keys) => call(client, 'mget', keys),
    scanners: async () => [(cursor, pattern, count) => call(client, 'scan', String(cursor), 'MATCH', pattern, 'COUNT', count)],
  }
}

module.exports = { adapter, missingMethods, REQUIRED }
