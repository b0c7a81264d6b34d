'use strict'
// Real express-session `Session` objects of a target serialized size, and the sids they live under.

const crypto = require('node:crypto')
const { Session, Cookie } = require('express-session')

const MAX_AGE = 86400000

/**
 * A Session as express-session builds it: a fake req holding a session-compatible Cookie, plus
 * data that looks like an app's (a user, a CSRF token, a cart) grown until JSON reaches `bytes`.
 */
function makeSession(bytes, sid = 'bench') {
  const cookie = new Cookie({ maxAge: MAX_AGE })
  const req = { sessionID: sid, session: { cookie } }
  const data = { cookie, userId: 'user-0012345', csrf: 'k3J9dQm2x7VbT1pZ', views: 1 }
  const sess = new Session(req, data)
  sess.cart = []
  sess.locale = ''
  for (let i = 0; ; i++) {
    const item = { sku: `SKU-${100000 + i}`, name: `Item number ${i}`, qty: (i % 3) + 1, price: 9.99 + i }
    sess.cart.push(item)
    if (JSON.stringify(sess).length > bytes) {
      sess.cart.pop()
      break
    }
  }
  const short = bytes - JSON.stringify(sess).length
  if (short > 0) sess.locale = 'en-GB,en;q=0.9,'.repeat(Math.ceil(short / 15)).slice(0, short)
  return sess
}

/** A 32-character sid like uid-safe makes, derived from a name so every process agrees on it. */
function sidFor(name) {
  return crypto.createHash('sha256').update(name).digest('base64url').slice(0, 32)
}

/** The i-th sid of a pool of keys shared between the parent (which fills it) and the children. */
function poolSid(pool, i) {
  return `${pool}-${i}`
}

module.exports = { makeSession, sidFor, poolSid, MAX_AGE }
