'use strict'
// The store's own options (the ones made of JavaScript values), checked at construction.
// Connection options are checked by the native side.

const { defaults } = require('./binding')
const { checkTtl, describe } = require('./ttl')

const DEFAULTS = defaults()

function invalid(name, expected, got) {
  const err = new TypeError(`connect-redis-rs: option \`${name}\` must be ${expected}, got ${describe(got)}`)
  err.code = 'ERR_INVALID_ARG_VALUE'
  return err
}

function storeOptions(options) {
  if (options == null) options = {}
  if (typeof options !== 'object') throw invalid('options', 'an object', options)

  const prefix = options.prefix == null ? DEFAULTS.prefix : options.prefix
  if (typeof prefix !== 'string') throw invalid('prefix', 'a string', prefix)

  const scanCount = options.scanCount == null ? DEFAULTS.scanCount : options.scanCount
  if (!Number.isInteger(scanCount) || scanCount <= 0) throw invalid('scanCount', 'a positive integer', scanCount)

  const serializer = options.serializer == null ? JSON : options.serializer
  if (typeof serializer !== 'object' || typeof serializer.stringify !== 'function' || typeof serializer.parse !== 'function') {
    throw invalid('serializer', 'an object with stringify and parse functions', serializer)
  }

  // `ttl: 0` means "not set", as connect-redis 10 reads it.
  const ttl = options.ttl === 0 ? undefined : options.ttl
  checkTtl(ttl)

  const logErrors = options.logErrors == null ? false : options.logErrors
  if (typeof logErrors !== 'boolean' && typeof logErrors !== 'function') {
    throw invalid('logErrors', 'a boolean or a function', logErrors)
  }

  return {
    prefix,
    scanCount,
    serializer,
    ttl,
    disableTTL: Boolean(options.disableTTL),
    disableTouch: Boolean(options.disableTouch),
    logErrors,
  }
}

module.exports = { storeOptions, invalid }
