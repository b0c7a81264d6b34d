'use strict'
// The calling convention of every store method: an optional node-style callback, and always a
// Promise. With a callback the outcome goes to the callback only (the Promise resolves with
// undefined once the callback has run, and never rejects: resolving it with a session would make
// V8 look up `then` on every session) and the callback runs exactly once, even if it throws.
//
// One call is one object, not a chain of closures: the executor, the `done` function and the
// closures around them cost a touch at 256 in flight ~400 of its ~4,700 main-thread
// instructions (benchmark/instructions.js).

function ignore() {}

class Call {
  /**
   * `unobserved`: connect-redis 3.x methods returned nothing, so 3.x code never handles a
   * rejection; in the factory form a call without a callback must not become an unhandled
   * rejection (the returned Promise still rejects for whoever awaits it). With a callback the
   * Promise never rejects.
   */
  constructor(callback, onCallbackThrow, unobserved) {
    // An executor per call: V8 inlines it, and its stores go to this young object (handing the
    // resolving functions over through module variables cost a write barrier each).
    this.promise = new Promise((resolve, reject) => {
      this._resolve = resolve
      this._reject = reject
    })
    this._callback = typeof callback === 'function' ? callback : undefined
    this._onCallbackThrow = onCallbackThrow
    this._finished = false
    if (unobserved && this._callback === undefined) this.promise.catch(ignore)
  }

  /** Ends the call with `err`, or with `value`; only the first ending counts. */
  finish(err, value) {
    if (this._finished) return
    this._finished = true
    const callback = this._callback
    if (callback === undefined) {
      if (err) this._reject(err)
      else this._resolve(value)
      return
    }
    this._resolve()
    try {
      if (err) callback(err)
      else callback(null, value)
    } catch (thrown) {
      this._onCallbackThrow(thrown)
    }
  }
}

module.exports = { Call }
