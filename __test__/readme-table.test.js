'use strict'
// The README's benchmark summary is written from the results (benchmark/readme-table.js): the
// table comes from the run's geometric means, only the block between the markers changes, and
// a README without the markers is a clear error. `.ci/run` checks the committed pair.

const test = require('ava')
const { summaryTable, withTable, START, END } = require('../benchmark/readme-table')

const geomean = (store, placement, byInflight) => ({ store, placement, byInflight, all: 1, worst: 1 })
const raw = {
  meta: { config: { inflights: [1, 16] } },
  ops: {
    geomeans: [
      geomean('rs', 'same', { 1: 1.234, 16: 2 }),
      geomean('rs', 'other', { 1: 0.996, 16: 1.5 }),
      geomean('cr3', 'same', { 1: 1, 16: 0.5 }),
    ],
  },
}

test('the table has a row per store, its ratios per placement and in-flight count, two decimals', (t) => {
  t.is(
    summaryTable(raw),
    [
      '| store | same core, 1 / 16 in flight | other core, 1 / 16 in flight |',
      '|---|---|---|',
      '| connect-redis-rs | 1.23× / 2.00× | 1.00× / 1.50× |',
      '| connect-redis 3.4.2 + node_redis 2.8 | 1.00× / 0.50× | – |',
    ].join('\n'),
  )
})

test('only the block between the markers is replaced, and replacing it again changes nothing', (t) => {
  const readme = `intro\n${START}\nold table\n${END}\nafter\n`
  const once = withTable(readme, summaryTable(raw))
  t.true(once.startsWith(`intro\n${START}\n| store |`))
  t.true(once.endsWith(`| – |\n${END}\nafter\n`))
  t.false(once.includes('old table'))
  t.is(withTable(once, summaryTable(raw)), once)
})

test('a README without the markers, or results without an ops phase, is a clear error', (t) => {
  t.throws(() => withTable('no markers here', 'x'), { message: /README\.md has no benchmark summary block/ })
  t.throws(() => summaryTable({ meta: { config: { inflights: [1] } }, ops: [] }), { message: /no store-operation geometric means/ })
})
