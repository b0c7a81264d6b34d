'use strict'
// The floor of what a store can do on the main thread: each session's JSON.parse, with no store
// and no Redis in the way. Opening it reads every session's JSON text into memory (untimed).
// Its all() then does only what every store's all() must: JSON.parse each value and set its id,
// 1,000 per turn of the event loop; what it stalls is V8's young-generation collection of the
// sessions it returns, which no store can avoid. Its get() answers the gets asked in a turn in
// one later turn (as replies that came in one read would be), each with JSON.parse of the
// session's text: the most gets per second any store can deliver in the same harness. With
// `promisePerCall` each get also returns a Promise that resolves once its callback has had the
// session, as SPEC.md asks of every store method: the most any store that keeps SPEC can deliver.

const Redis = require('ioredis')

const SLICE = 1000

async function openParseFloor({ host, port, prefix = 'sess:', promisePerCall = false }) {
  const redis = new Redis({ host, port, lazyConnect: true })
  await redis.connect()
  const sids = []
  const raws = []
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length === 0) continue
    const values = await redis.mget(keys)
    keys.forEach((key, i) => {
      sids.push(key.slice(prefix.length))
      raws.push(values[i])
    })
  } while (cursor !== '0')
  await redis.quit()
  const textOf = new Map(sids.map((sid, i) => [sid, raws[i]]))
  // [sid, callback, the Promise's resolve or undefined, …]
  let asked = []
  const answer = () => {
    const batch = asked
    asked = []
    for (let i = 0; i < batch.length; i += 3) {
      const raw = textOf.get(batch[i])
      const sess = raw === undefined ? null : JSON.parse(raw)
      const resolve = batch[i + 2]
      if (resolve !== undefined) resolve()
      batch[i + 1](null, sess)
    }
  }
  const ask = (sid, cb, resolve) => {
    if (asked.push(sid, cb, resolve) === 3) setImmediate(answer)
  }
  const store = {
    get: promisePerCall
      ? (sid, cb) => {
          let resolve
          const promise = new Promise((r) => {
            resolve = r
          })
          ask(sid, cb, resolve)
          return promise
        }
      : (sid, cb) => ask(sid, cb, undefined),
    all: (cb) => parseInSlices(raws, (i) => sids[i]).then((sessions) => cb(null, sessions)),
  }
  return { store, close: async () => {} }
}

/** `raws` parsed SLICE per turn of the event loop, each session given the id `idOf(i)`. */
function parseInSlices(raws, idOf) {
  const sessions = []
  let at = 0
  return new Promise((resolve) => {
    const slice = () => {
      for (const end = Math.min(raws.length, at + SLICE); at < end; at++) {
        const sess = JSON.parse(raws[at])
        sess.id = idOf(at)
        sessions.push(sess)
      }
      if (at < raws.length) setImmediate(slice)
      else resolve(sessions)
    }
    setImmediate(slice)
  })
}

module.exports = { openParseFloor, parseInSlices }
