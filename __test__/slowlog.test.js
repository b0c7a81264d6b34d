'use strict'
// scripts/slowlog.js: how bulk-200k.test.js tells a command slow by its own work from one a
// pause of the machine made slow. Entries are shaped as SLOWLOG GET returns them, including its
// cut of long argument lists at 32 ("... (N more arguments)").

const test = require('ava')
const { argCount, describeArgs, judgeSlow, PAUSE_FACTOR, MIN_PEERS } = require('../scripts/slowlog')

let id = 0
/** A SLOWLOG entry for `name` with `keys` keys, as Redis cuts it. */
function entry(us, name, keys, client = '') {
  const args = [name, ...Array.from({ length: keys }, (_, i) => `sess:${i}`)]
  const cut = args.length > 32 ? [...args.slice(0, 31), `... (${args.length - 31} more arguments)`] : args
  return [id++, 1700000000, us, cut, '127.0.0.1:5000', client]
}
const scan = (us, client) => [id++, 1700000000, us, ['SCAN', '1234', 'MATCH', 'sess:*', 'COUNT', '100'], '127.0.0.1:5000', client || '']
const many = (n, make) => Array.from({ length: n }, (_, i) => make(i))

test('argCount and describeArgs read the count SLOWLOG keeps past its 32 arguments', (t) => {
  t.is(argCount(entry(1, 'MGET', 500)[3]), 501)
  t.is(argCount(entry(1, 'MGET', 3)[3]), 4)
  t.is(describeArgs(entry(1, 'UNLINK', 500)[3]), 'UNLINK (500 keys)')
  t.is(describeArgs(scan(1)[3]), 'SCAN 1234 MATCH sess:* COUNT 100')
})

test('a 17 ms MGET among 400 alike at 0.6 ms is a pause, not the store', (t) => {
  const entries = [...many(400, (i) => entry(550 + (i % 100), 'MGET', 500)), entry(17188, 'MGET', 500), ...many(2000, () => scan(110))]
  const { own, paused, logged } = judgeSlow(entries, 10000)
  t.deepEqual(own, [])
  t.is(paused.length, 1)
  t.like(paused[0], { us: 17188, command: 'MGET (500 keys)', peers: 401 })
  t.true(paused[0].peerMedianUs < 700)
  t.is(logged, 2401)
})

test('one MGET of every key has no like: it counts, however fast the others are', (t) => {
  const entries = [...many(400, () => entry(600, 'MGET', 500)), entry(40000, 'MGET', 200000)]
  const { own, paused } = judgeSlow(entries, 10000)
  t.deepEqual(paused, [])
  t.is(own.length, 1)
  t.like(own[0], { us: 40000, command: 'MGET (200000 keys)', peers: 1, peerMedianUs: 40000 })
})

test(`a slow command under ${PAUSE_FACTOR} x its kind's median counts`, (t) => {
  const entries = [...many(400, () => entry(3000, 'UNLINK', 500)), entry(12000, 'UNLINK', 500)]
  const { own, paused } = judgeSlow(entries, 10000)
  t.deepEqual(paused, [])
  t.like(own[0], { us: 12000, peerMedianUs: 3000 })
})

test('a kind slow at the median counts every slow one', (t) => {
  const { own, paused } = judgeSlow(many(50, (i) => scan(10000 + i)), 10000)
  t.is(own.length, 50)
  t.deepEqual(paused, [])
})

test(`fewer than ${MIN_PEERS} alike are no evidence of a pause`, (t) => {
  const entries = [...many(MIN_PEERS - 2, () => entry(100, 'MGET', 500)), entry(15000, 'MGET', 500)]
  const { own, paused } = judgeSlow(entries, 10000)
  t.is(own.length, 1)
  t.deepEqual(paused, [])
})

test("the test's own connection is left out, by its client name", (t) => {
  const entries = [entry(50000, 'SLOWLOG', 2, 'admin'), ...many(20, () => scan(100, 'store'))]
  const { own, logged } = judgeSlow(entries, 10000, { skipClient: 'admin' })
  t.deepEqual(own, [])
  t.is(logged, 20)
})
