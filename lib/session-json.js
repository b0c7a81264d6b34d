'use strict'
// JSON.stringify(session), the same bytes, without V8's Date#toJSON: a session's cookie holds
// `expires` as a Date, and V8 formats a Date through vsnprintf (callgrind: ~6,700 instructions,
// a fifth of a `set` at 256 in flight). The session is copied with its cookie's JSON in place of
// the cookie and, when `expires` is a plain Date, the string its toJSON would return in place
// of the Date; the copy goes to JSON.stringify. Whatever is not recognised is left to
// JSON.stringify as it is.

const DAY_S = 86400
// Dates from 0000-01-01 to 9999-12-31 print with a four-digit year; others go to toISOString.
const FIRST_4_DIGIT_YEAR_MS = -62167219200000
const FIRST_5_DIGIT_YEAR_MS = 253402300800000

const isNative = (fn) => typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
const nativeDate = {
  toJSON: Date.prototype.toJSON,
  toISOString: Date.prototype.toISOString,
  valueOf: Date.prototype.valueOf,
  toPrimitive: Date.prototype[Symbol.toPrimitive],
}
// If anything patched Date before this module loaded, every session takes JSON.stringify.
const DATES_ARE_NATIVE = Object.values(nativeDate).every(isNative)

function stringifySession(sess) {
  if (!DATES_ARE_NATIVE || sess === null || typeof sess !== 'object' || typeof sess.toJSON === 'function' || Array.isArray(sess)) {
    return JSON.stringify(sess)
  }
  // A spread copies the own enumerable keys, as JSON.stringify reads them, in the same order,
  // and objects of one shape without a lookup per key: the copy serializes as the session does.
  const copy = { ...sess }
  const cookie = copy.cookie
  try {
    if (Object.hasOwn(copy, 'cookie') && cookie !== null && typeof cookie === 'object' && typeof cookie.toJSON === 'function') {
      copy.cookie = cookieJSON(cookie.toJSON('cookie'))
    }
    return JSON.stringify(copy)
  } catch {
    // A circular session, a BigInt, a throwing toJSON: JSON.stringify's own error, word for word.
    return JSON.stringify(sess)
  }
}

/** What JSON.stringify would write for a cookie whose toJSON returned `data`. */
function cookieJSON(data) {
  // JSON.stringify does not look for a toJSON on what toJSON returned; a copy of a plain
  // object without one is serialized the same way.
  if (data === null || typeof data !== 'object' || Object.getPrototypeOf(data) !== Object.prototype || data.toJSON !== undefined) {
    return { toJSON: () => data }
  }
  const copy = { ...data }
  const expires = copy.expires
  if (Object.hasOwn(copy, 'expires') && isPlainDate(expires)) copy.expires = dateJSON(expires)
  return copy
}

function isPlainDate(value) {
  return (
    value instanceof Date &&
    Object.getPrototypeOf(value) === Date.prototype &&
    value.toJSON === nativeDate.toJSON &&
    value.toISOString === nativeDate.toISOString &&
    value.valueOf === nativeDate.valueOf &&
    value[Symbol.toPrimitive] === nativeDate.toPrimitive
  )
}

/** Date#toJSON: null for an invalid date, else its ISO string. */
function dateJSON(date) {
  const ms = date.valueOf()
  if (!Number.isFinite(ms)) return null
  if (ms < FIRST_4_DIGIT_YEAR_MS || ms >= FIRST_5_DIGIT_YEAR_MS) return date.toISOString()
  return isoString(ms)
}

// "000Z" … "999Z": the end of every ISO string.
const MILLIS_Z = Array.from({ length: 1000 }, (_, ms) => `${pad(ms, 3)}Z`)
// Sessions saved in the same second expire in the same second (expires = now + maxAge): the
// text up to the milliseconds is formatted once per second, not once per session (callgrind:
// 17.5k -> 15.1k instructions for a 200 B session).
let cachedSecond = NaN
let cachedSecondText = ''

/** YYYY-MM-DDTHH:mm:ss.sssZ for a time in years 0-9999. */
function isoString(ms) {
  const second = Math.floor(ms / 1000)
  if (second !== cachedSecond) {
    cachedSecondText = secondText(second)
    cachedSecond = second
  }
  return cachedSecondText + MILLIS_Z[ms - second * 1000]
}

/** YYYY-MM-DDTHH:mm:ss. for a second since the epoch (days to civil date: H. Hinnant). */
function secondText(second) {
  const days = Math.floor(second / DAY_S)
  let rest = second - days * DAY_S
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const dayOfEra = z - era * 146097
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365)
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const mp = Math.floor((5 * dayOfYear + 2) / 153)
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
  const hours = Math.floor(rest / 3600)
  rest -= hours * 3600
  const minutes = Math.floor(rest / 60)
  const seconds = rest - minutes * 60
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.`
}

function pad(n, width) {
  const s = String(n)
  return s.length >= width ? s : '0'.repeat(width - s.length) + s
}

module.exports = { stringifySession }
