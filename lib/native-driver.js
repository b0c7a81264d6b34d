'use strict'
// The native client, driven from here. Every operation of a turn goes to Rust in one `submit`
// call (a plain function, src/submit_fn.rs: numbers in one Float64Array, every string joined
// into one; src/submission.rs reads them) and every result comes back in batches through one
// callback, so the JS/Rust boundary is crossed about twice per turn of the event loop, not per
// operation.
//
// This is the driver interface the store talks to (a foreign-client driver offers the same).
// `done` is an object whose complete(err, value, corruptError?) is called once with the result
// (the store's calls are such objects, so an operation makes no closure):
//   get(prefix, sid, done)            value: raw | null
//   set(prefix, sid, value, ttl, done) ttl: seconds, 0 delete, -1 no expiry
//   expire(prefix, sid, ttl, done)    value: 0 | 1
//   destroy(prefix, sids, done)       value: count
//   ids / clear(prefix, scanCount, done)
//   all(prefix, scanCount, done, onPart)  [sid, raw, …]: leading parts may come through
//                                     onPart(flat), the rest comes through done
// plus the client surface of SPEC.md section 5 (quit, end, unref, address, connected, events).

const { EventEmitter } = require('node:events')
const binding = require('./binding')
const { debug } = require('./debug')
const { Pending } = require('./pending')

const { OpKind, BulkKind, Delivered, PlainReply, SAME_PREFIX } = binding
// Measured: 64 K characters beat both 16 K and one write per turn for 2 KB and 20 KB sessions.
const EARLY_WRITE_CHARS = 65536
// A turn's first 128 operations go out before the turn ends, so that Redis works on them while
// this process handles the rest instead of each side waiting for the other (256 in flight,
// Redis on the other core: get 215k -> 311k ops/s, touch 308k -> 619k; on the same core no
// change, where 64 lost 15-40% to the extra context switches).
const EARLY_WRITE_OPS = 128

class NativeDriver extends EventEmitter {
  constructor(options = {}) {
    super()
    this._native = new binding.NativeClient(options, (batch, nums, count, text) => this._deliver(batch, nums, count, text))
    this._submit = this._native.submitter()
    this._pending = new Pending()
    this._parts = new Map()
    // The turn's operations as submit() takes them, and their ids (to fail them if it throws).
    this._nums = new Float64Array(1024)
    this._count = 0
    this._text = ''
    // The prefix last written to _text this turn: the next operation with the same one says so
    // instead of repeating it.
    this._prefix = undefined
    // Reused from turn to turn: the first _opCount are the queued operations' ids.
    this._ids = []
    this._opCount = 0
    this._flushScheduled = false
    this._flush = () => this._sendQueued()
    // Inside _deliver: operations the results' callbacks start are sent when it ends.
    this._delivering = false
    this._closing = false
    this._closed = false
    this._onDrained = []
    this._alive = false
    this.connected = false
  }

  get address() {
    return this._native.address
  }

  get(prefix, sid, done) {
    this._op(OpKind.Get, prefix, sid, undefined, -1, done)
  }

  set(prefix, sid, value, ttl, done) {
    this._op(OpKind.Set, prefix, sid, value, ttl, done)
  }

  expire(prefix, sid, ttl, done) {
    this._op(OpKind.Touch, prefix, sid, undefined, ttl, done)
  }

  destroy(prefix, sids, done) {
    this._op(OpKind.Destroy, prefix, sids, undefined, -1, done)
  }

  ids(prefix, scanCount, done) {
    this._bulk(BulkKind.Ids, prefix, scanCount, done)
  }

  all(prefix, scanCount, done, onPart) {
    const last = { complete: (err, part) => done.complete(err, err ? undefined : entriesOf(part)) }
    this._bulk(BulkKind.All, prefix, scanCount, last, (part) => onPart(entriesOf(part)))
  }

  clear(prefix, scanCount, done) {
    this._bulk(BulkKind.Clear, prefix, scanCount, done)
  }

  _track(done) {
    if (this._closing) {
      process.nextTick(failLater, done, this._closedError())
      return 0
    }
    this._keepAlive(true)
    const id = this._pending.add(done)
    if (id === 0) {
      process.nextTick(failLater, done, new RangeError('connect-redis-rs: over 4 million operations are waiting for Redis; wait for some to finish'))
    }
    return id
  }

  _op(kind, prefix, sid, value, ttl, done) {
    const id = this._track(done)
    if (id === 0) return
    const sids = kind === OpKind.Destroy ? sid : null
    const slots = 6 + (sids ? sids.length : 0)
    if (this._count + slots > this._nums.length) this._grow(slots)
    const nums = this._nums
    let n = this._count
    nums[n++] = id
    nums[n++] = kind
    nums[n++] = ttl
    let text = this._text
    if (prefix === this._prefix) {
      nums[n++] = SAME_PREFIX
    } else {
      nums[n++] = prefix.length
      text += prefix
      this._prefix = prefix
    }
    if (sids) {
      nums[n++] = sids.length
      for (const one of sids) {
        nums[n++] = one.length
        text += one
      }
    } else {
      nums[n++] = sid.length
      text += sid
      if (kind === OpKind.Set) {
        nums[n++] = value.length
        text += value
      }
    }
    this._count = n
    this._text = text
    this._ids[this._opCount++] = id
    // Large values go out at once rather than piling up into one huge write at the end of the
    // turn (which Redis then reads, and this process copies, all in one go).
    if (text.length >= EARLY_WRITE_CHARS || this._opCount >= EARLY_WRITE_OPS) return this._sendQueued()
    if (!this._flushScheduled && !this._delivering) {
      this._flushScheduled = true
      // After this turn of the event loop's I/O callbacks, not after this one callback: the
      // operations of every request handled in the turn share one write (HTTP: 0.8x -> 1.0x).
      setImmediate(this._flush)
    }
  }

  _grow(slots) {
    const bigger = new Float64Array(Math.max(this._nums.length * 2, this._count + slots))
    bigger.set(this._nums.subarray(0, this._count))
    this._nums = bigger
  }

  _sendQueued() {
    this._flushScheduled = false
    if (this._count === 0) return
    const { _nums: nums, _count: count, _text: text, _opCount: opCount } = this
    this._count = 0
    this._text = ''
    this._prefix = undefined
    this._opCount = 0
    try {
      this._submit(nums, count, text)
    } catch (err) {
      for (const id of this._ids.slice(0, opCount)) this._settle(id, err, undefined)
    }
  }

  _bulk(kind, prefix, scanCount, done, onPart) {
    const id = this._track(done)
    if (id === 0) return
    if (onPart) this._parts.set(id, onPart)
    try {
      this._native.bulk(id, kind, prefix, scanCount)
    } catch (err) {
      this._settle(id, err, undefined)
    }
  }

  // From the main-thread connection also the plain replies: `nums` holds [id, kind, n, …] for
  // `count` numbers and `text` their values joined (src/plain_replies.rs).
  // What the callbacks start is sent when the delivery ends, not at setImmediate, which would
  // cost the check phase's callback scope once more per turn (~3,300 instructions; one touch in
  // flight now costs ~15,000 in all).
  _deliver(batch, nums, count, text) {
    this._delivering = true
    try {
      if (count > 0) this._deliverPlain(nums, count, text)
      if (batch !== undefined) this._deliverBatch(batch)
    } finally {
      this._delivering = false
      if (this._count > 0) this._sendQueued()
    }
    if (this._pending.size === 0) this._drained()
  }

  _deliverPlain(nums, count, text) {
    let at = 0
    for (let i = 0; i < count; i += 3) {
      const kind = nums[i + 1]
      let value = null
      if (kind === PlainReply.Text) {
        const end = at + nums[i + 2]
        value = text.slice(at, end)
        at = end
      } else if (kind === PlainReply.Int) {
        value = nums[i + 2]
      }
      this._settle(nums[i], null, value)
    }
  }

  _deliverBatch(batch) {
    for (let i = 0; i < batch.length; i += 3) {
      const id = batch[i]
      const status = batch[i + 1]
      const payload = batch[i + 2]
      if (id === 0) this._event(status, payload)
      else if (status === Delivered.Partial) this._addPart(id, payload)
      else if (status === Delivered.Ok) this._settle(id, null, payload)
      else if (status === Delivered.Corrupt) this._settle(id, null, null, payload)
      else this._settle(id, payload, undefined)
    }
  }

  // A leading part of a result delivered in parts (all()); none is kept here.
  _addPart(id, part) {
    const onPart = this._parts.get(id)
    if (onPart !== undefined) onPart(part)
  }

  _settle(id, err, value, corrupt) {
    const done = this._pending.take(id)
    if (done === undefined) return
    // A result that ends, even midway (rare), takes no more parts.
    if (this._parts.size !== 0) this._parts.delete(id)
    // `done` belongs to the store, which guards the user's callback itself.
    done.complete(err, value, corrupt)
  }

  _event(kind, err) {
    if (this._closed) return
    if (kind === Delivered.Connect) {
      this.connected = true
      debug('connect %s', this.address)
      this.emit('connect')
      this.emit('ready')
    } else if (kind === Delivered.Disconnect) {
      this.connected = false
      this._native.refresh()
      debug('disconnect %s: %s', this.address, err)
      this.emit('disconnect', err)
    } else if (kind === Delivered.DirectReady) {
      this._native.refresh()
      debug('main-thread connection ready %s', this.address)
    }
  }

  /** Whether pending work keeps the process alive; crosses into Rust only when that changes. */
  _keepAlive(on) {
    if (this._alive === on) return
    this._alive = on
    this._native.keepAlive(on)
  }

  _drained() {
    if (this._closed) return
    this._keepAlive(false)
    if (this._closing) this._finishClose()
  }

  _closedError() {
    return binding.closedError()
  }

  /** Finishes the operations in flight, then closes the connection. */
  quit(callback) {
    const done = new Promise((resolve) => {
      if (this._closed) return resolve('OK')
      this._onDrained.push(resolve)
      if (!this._closing) {
        this._closing = true
        if (this._pending.size === 0) this._finishClose()
      }
    })
    if (typeof callback === 'function') done.then((res) => callback(null, res))
    return done
  }

  /** Closes at once; operations still in flight may fail. */
  end() {
    this._closing = true
    this._finishClose()
  }

  /** Accepted for node_redis compatibility: the client never keeps the process alive by itself. */
  unref() {}

  _finishClose() {
    if (this._closed) return
    this._closed = true
    this.connected = false
    this._keepAlive(false)
    this._native.close()
    debug('closed %s', this.address)
    for (const id of this._pending.ids()) this._settle(id, this._closedError(), undefined)
    this.emit('end')
    for (const resolve of this._onDrained.splice(0)) resolve('OK')
  }
}

/**
 * A part of all()'s result as src/entries.rs hands it over, `[sids, raws, lengths, errors]`
 * (each sid and value sliced from one string), made the flat `[sid, raw, …]` the store takes;
 * a value that is not UTF-8 (length -1) becomes its error.
 */
function entriesOf([sids, raws, lengths, errors]) {
  const flat = new Array(lengths.length)
  let sidAt = 0
  let rawAt = 0
  let errorAt = 0
  for (let i = 0; i < lengths.length; i += 2) {
    const sidEnd = sidAt + lengths[i]
    flat[i] = sids.slice(sidAt, sidEnd)
    sidAt = sidEnd
    const rawLength = lengths[i + 1]
    if (rawLength < 0) {
      flat[i + 1] = errors[errorAt++]
    } else {
      flat[i + 1] = raws.slice(rawAt, rawAt + rawLength)
      rawAt += rawLength
    }
  }
  return flat
}

function failLater(done, err) {
  done.complete(err)
}

module.exports = { NativeDriver }
