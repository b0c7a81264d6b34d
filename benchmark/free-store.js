'use strict'
// A store that does no work, for the HTTP part: it keeps the sessions it is handed in a Map and
// hands them back, with no JSON, no Redis and no socket. What is left of a request is express's
// and express-session's own work (cookie signing, the session's hash for resave: false, its
// Session and Cookie objects), so no store's cost can be lower. Two ways to answer:
//   at once:        the callback runs before the call returns;
//   nextTurn: true: the callbacks of a turn run together in the next one (setImmediate), as
//                   replies that came in one read would, and as express-session's MemoryStore does.
// It copies each session's fields one level deep (a handful of properties): express-session
// replaces the cookie of the object a store hands it, and req.session holds its request.

const { Store } = require('express-session')

class FreeStore extends Store {
  constructor({ nextTurn = false } = {}) {
    super()
    this.sessions = new Map()
    this.answer = nextTurn ? setImmediate : (fn) => fn()
  }

  get(sid, callback) {
    const session = this.sessions.get(sid)
    this.answer(() => callback(null, session ? { ...session } : null))
  }

  set(sid, session, callback) {
    this.sessions.set(sid, { ...session, cookie: session.cookie.data })
    if (callback) this.answer(() => callback(null))
  }

  touch(sid, session, callback) {
    if (callback) this.answer(() => callback(null))
  }

  destroy(sid, callback) {
    this.sessions.delete(sid)
    if (callback) this.answer(() => callback(null))
  }
}

async function openFreeStore(options) {
  return { store: new FreeStore(options), close: async () => {} }
}

module.exports = { openFreeStore }
