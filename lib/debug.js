'use strict'
// Debug logging of the connection's life (connect, disconnect with its error, close), off by
// default. Turned on the usual Node ways:
//
//   DEBUG=connect-redis-rs node app.js        the `debug` package's syntax: names separated by
//                                             commas or spaces, `*` matches anything, a leading
//                                             `-` excludes (DEBUG='*,-express:*')
//   NODE_DEBUG=connect-redis-rs node app.js   Node's own util.debuglog
//
// Decided once, when this module loads: when neither names connect-redis-rs, `debug` is a
// function that does nothing, so a call costs no formatting and no environment look-up.

const util = require('node:util')

const NAMESPACE = 'connect-redis-rs'

function wildcard(pattern) {
  const source = pattern.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*')
  return new RegExp(`^${source}$`)
}

/** Whether a DEBUG value turns `namespace` on, with the `debug` package's rules. */
function debugEnvEnables(value, namespace = NAMESPACE) {
  let enabled = false
  for (const part of String(value || '').split(/[\s,]+/)) {
    if (part === '' || part === '-') continue
    const skip = part[0] === '-'
    if (!wildcard(skip ? part.slice(1) : part).test(namespace)) continue
    if (skip) return false // an exclusion wins wherever it stands, as in `debug`
    enabled = true
  }
  return enabled
}

function noop() {}

/** An error as one line, its code first: `ERR_REDIS_CONNECTION connection refused`. */
function oneLine(arg) {
  if (arg === null || typeof arg !== 'object' || typeof arg.message !== 'string') return arg
  return arg.code ? `${arg.code} ${arg.message}` : arg.message
}

function formatLine(format, args) {
  return util.format(format, ...args.map(oneLine))
}

function create() {
  if (debugEnvEnables(process.env.DEBUG)) {
    return function debug(format, ...args) {
      process.stderr.write(`${new Date().toISOString()} ${NAMESPACE} ${formatLine(format, args)}\n`)
    }
  }
  const nodeDebug = util.debuglog(NAMESPACE)
  if (nodeDebug.enabled) {
    return function debug(format, ...args) {
      nodeDebug('%s', formatLine(format, args))
    }
  }
  return noop
}

const debug = create()
debug.enabled = debug !== noop

module.exports = { debug, debugEnvEnables }
