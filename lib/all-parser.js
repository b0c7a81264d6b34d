'use strict'
// all()'s sessions, parsed from the driver's result as its parts arrive: each part is a flat
// [sid, raw, sid, raw, …] (raw is an Error for a value that is not UTF-8). At most PARSE_SLICE
// sessions are parsed per turn of the event loop, and a part is let go once parsed. Every parsed
// session survives V8's scavenges and each scavenge pauses in proportion to what survives it;
// raw strings that die young instead of piling up until the end keep that down.

/** Sessions parsed per turn of the event loop. */
const PARSE_SLICE = 1000

class AllParser {
  /**
   * `corrupt(sid, err)` reports a value that cannot be parsed; `done(null, sessions)` runs once
   * the last part is parsed.
   */
  constructor(serializer, corrupt, done) {
    this._serializer = serializer
    this._corrupt = corrupt
    this._done = done
    this._parts = []
    this._at = 0 // where parsing resumes in _parts[0]
    this._last = false
    this._scheduled = false
    this._sessions = []
    this._pending = []
    this._next = () => this._slice()
  }

  /** One part of the result; `last` says it ends the result. */
  add(flat, last) {
    this._parts.push(flat)
    this._last = last
    this._schedule()
  }

  /** The driver failed: what is still queued is dropped and `done` is not called. */
  stop() {
    this._parts = []
    this._last = false
  }

  // Parsing waits for setImmediate, never runs inside a delivery: Node.js runs a threadsafe
  // function's calls back to back for as long as the next is queued before the last returns, so
  // slow deliveries would keep the event loop from turning.
  _schedule() {
    if (this._scheduled) return
    this._scheduled = true
    setImmediate(this._next)
  }

  _slice() {
    this._scheduled = false
    let budget = PARSE_SLICE
    while (budget > 0 && this._parts.length !== 0) {
      const flat = this._parts[0]
      const end = Math.min(flat.length, this._at + 2 * budget)
      this._parse(flat, this._at, end)
      budget -= (end - this._at) / 2
      if (end < flat.length) {
        this._at = end
      } else {
        this._parts.shift()
        this._at = 0
      }
    }
    if (this._parts.length !== 0) {
      this._schedule()
    } else if (this._last) {
      this._finish()
    }
  }

  _parse(flat, start, end) {
    for (let i = start; i < end; i += 2) {
      const sid = flat[i]
      const raw = flat[i + 1]
      if (typeof raw !== 'string') {
        this._corrupt(sid, raw)
        continue
      }
      let parsed
      try {
        parsed = this._serializer.parse(raw)
      } catch (err) {
        this._corrupt(sid, err)
        continue
      }
      if (parsed && typeof parsed.then === 'function') {
        this._pending.push(parsed.then((sess) => withId(sess, sid), (err) => this._corrupt(sid, err)))
      } else {
        const sess = withId(parsed, sid)
        if (sess) this._sessions.push(sess)
      }
    }
  }

  _finish() {
    const sessions = this._sessions
    if (this._pending.length === 0) return this._done(null, sessions)
    Promise.all(this._pending).then((late) => this._done(null, sessions.concat(late.filter(Boolean))))
  }
}

/** The session with its id, or null for a value that is not a session object. */
function withId(sess, sid) {
  if (sess === null || typeof sess !== 'object') return null
  sess.id = sid
  return sess
}

module.exports = { AllParser }
