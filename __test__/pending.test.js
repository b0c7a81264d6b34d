'use strict'
// lib/pending.js: the native driver's table of operations waiting for a result.

const test = require('ava')
const { Pending } = require('../lib/pending')

test('every id is settled once, by its own callback; a late result for a reused slot is ignored', (t) => {
  const pending = new Pending()
  const a = () => 'a'
  const b = () => 'b'
  const idA = pending.add(a)
  t.true(idA > 0)
  t.is(pending.size, 1)
  t.is(pending.take(idA), a)
  t.is(pending.take(idA), undefined, 'settled once')
  const idB = pending.add(b)
  t.not(idB, idA, 'the reused slot has a new id')
  t.is(pending.take(idA), undefined, "the old id does not reach the slot's next operation")
  t.deepEqual(pending.ids(), [idB])
  t.is(pending.take(idB), b)
  t.is(pending.size, 0)
})

test('ids stay unique among waiting operations and within 31 bits, also after many laps', (t) => {
  const pending = new Pending()
  const live = new Set()
  for (let lap = 0; lap < 2000; lap++) {
    const ids = []
    for (let i = 0; i < 3; i++) {
      const id = pending.add(() => {})
      t.false(live.has(id))
      live.add(id)
      ids.push(id)
    }
    for (const id of ids) {
      t.true(id > 0 && id < 2 ** 31)
      t.truthy(pending.take(id))
      live.delete(id)
    }
  }
  t.is(pending.size, 0)
})
