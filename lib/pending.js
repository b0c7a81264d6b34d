'use strict'
// The operations waiting for their result, by id. Ids index a plain array (a Map with this much
// churn makes V8's young-generation GC copy megabytes once the Map has been promoted to the old
// generation: it halved throughput after any full GC). A slot is reused once its operation is
// settled; the id also carries how many times its slot was used, so a late result for an id
// that was already settled can never reach the slot's next operation.

const SLOT_BITS = 22
const SLOT_MASK = (1 << SLOT_BITS) - 1
const MAX_SLOTS = 1 << SLOT_BITS
// Ids stay below 2^31 (small integers for V8, u32 for Rust).
const LAP_MASK = (1 << (31 - SLOT_BITS)) - 1

class Pending {
  constructor() {
    this._done = [undefined] // slot 0 is never used: id 0 marks an event
    this._laps = [0]
    this._free = []
    this.size = 0
  }

  /** Returns the id of `done`, or 0 when a few million operations are already waiting. */
  add(done) {
    let slot = this._free.pop()
    if (slot === undefined) {
      slot = this._done.length
      if (slot >= MAX_SLOTS) return 0
      this._done.push(undefined)
      this._laps.push(0)
    }
    const lap = (this._laps[slot] + 1) & LAP_MASK
    this._laps[slot] = lap
    this._done[slot] = done
    this.size++
    return lap * MAX_SLOTS + slot
  }

  /** The callback of `id`, removed; undefined if it was already settled. */
  take(id) {
    const slot = id & SLOT_MASK
    const done = this._done[slot]
    if (done === undefined || this._laps[slot] !== Math.floor(id / MAX_SLOTS)) return undefined
    this._done[slot] = undefined
    this._free.push(slot)
    this.size--
    return done
  }

  ids() {
    const out = []
    for (let slot = 1; slot < this._done.length; slot++) {
      if (this._done[slot] !== undefined) out.push(this._laps[slot] * MAX_SLOTS + slot)
    }
    return out
  }
}

module.exports = { Pending }
