'use strict'
// The TTL rule of SPEC.md section 3, and what "expired" means: the one home of both.

const { defaults } = require('./binding')

const DEFAULT_TTL = defaults().ttl
/** What the native side takes for "no expiry" (disableTTL). */
const NO_EXPIRY = -1
/** What the native side takes for "already expired: delete the key". */
const EXPIRED = 0
/** The largest TTL Redis accepts in SET EX, in seconds (as a safe JavaScript integer). */
const MAX_TTL = Math.floor(Number.MAX_SAFE_INTEGER / 1000)

function isNumericString(value) {
  return typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))
}

function isValidTtl(ttl) {
  return ttl == null || typeof ttl === 'function' || (typeof ttl === 'number' && !Number.isNaN(ttl)) || isNumericString(ttl)
}

function describe(value) {
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`
  return `${typeof value} ${String(value)}`
}

function checkTtl(ttl) {
  if (!isValidTtl(ttl)) {
    throw new TypeError(`connect-redis-rs: option \`ttl\` must be a number or function (seconds), got ${describe(ttl)}`)
  }
}

/** `new Date(value).getTime()`, without the copy when `value` is already a Date (as a Cookie's
 * `expires` is): a Date object costs ~250 instructions per set and touch. */
function timeOf(value) {
  return value instanceof Date ? value.getTime() : new Date(value).getTime()
}

/** Seconds until `sess` expires, before the "expired" rule is applied. */
function ttlSeconds(store, sess, sid, form) {
  // The option as given (`store.ttl` shows a default in the class form).
  const ttl = store._ttl
  checkTtl(ttl)
  if (typeof ttl === 'function') return Number(form === 'factory' ? ttl(store, sess, sid) : ttl(sess))
  if (ttl != null) return Number(ttl)
  const cookie = sess && sess.cookie
  if (cookie && cookie.expires) {
    return Math.ceil((timeOf(cookie.expires) - Date.now()) / 1000)
  }
  if (cookie && typeof cookie.maxAge === 'number') return Math.floor(cookie.maxAge / 1000)
  return DEFAULT_TTL
}

/** The expiry the native side applies: seconds, EXPIRED (delete) or NO_EXPIRY. */
function expiryFor(store, sess, sid, form) {
  if (store.disableTTL) return NO_EXPIRY
  const seconds = ttlSeconds(store, sess, sid, form)
  // SET EX takes whole seconds: a fraction rounds up, so a short TTL is not a delete.
  return seconds > 0 ? Math.min(Math.ceil(seconds), MAX_TTL) : EXPIRED
}

module.exports = { checkTtl, expiryFor, describe, EXPIRED, NO_EXPIRY }
