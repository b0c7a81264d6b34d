'use strict'
// The calling convention of every store method: an optional node-style callback, and always a
// Promise. With a callback the outcome goes to the callback only (the Promise resolves with
// undefined, never rejects: resolving it with a session would make V8 look up `then` on every
// session) and the callback runs exactly once, even if it throws.

function settle(callback, onCallbackThrow, run) {
  return new Promise((resolve, reject) => {
    let finished = false
    const done = (err, value) => {
      if (finished) return
      finished = true
      if (typeof callback !== 'function') {
        if (err) reject(err)
        else resolve(value)
        return
      }
      resolve()
      try {
        if (err) callback(err)
        else callback(null, value)
      } catch (thrown) {
        onCallbackThrow(thrown)
      }
    }
    try {
      run(done)
    } catch (err) {
      done(err)
    }
  })
}

/** connect-redis 3.x methods returned nothing, so 3.x code never handles a rejection: in the
 * factory form a call without a callback must not become an unhandled rejection (the returned
 * Promise still rejects for whoever awaits it). With a callback it never rejects. */
function settleUnobserved(callback, onCallbackThrow, run) {
  const promise = settle(callback, onCallbackThrow, run)
  if (typeof callback !== 'function') promise.catch(() => {})
  return promise
}

module.exports = { settle, settleUnobserved }
