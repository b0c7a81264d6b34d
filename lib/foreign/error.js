'use strict'
// A foreign client's error as the store hands it on: the client's own error when it is a real
// Error; otherwise (node_redis 2.x's ReplyError only inherits from Error, so tools that check
// for a native Error, ava's throwsAsync among them, reject it) a real Error with the same name,
// message and properties (`code`, `command`, `args`), the original as `cause`.

const { types } = require('node:util')

function asError(err) {
  if (types.isNativeError(err)) return err
  const message = err != null && err.message !== undefined ? String(err.message) : String(err)
  const wrapped = new Error(message, { cause: err })
  if (err != null && typeof err === 'object') {
    if (typeof err.name === 'string') wrapped.name = err.name
    for (const key of Object.keys(err)) if (!(key in wrapped) || key === 'code') wrapped[key] = err[key]
  }
  return wrapped
}

module.exports = { asError }
