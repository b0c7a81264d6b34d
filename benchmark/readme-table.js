'use strict'
// The README's summary of the committed run (geometric mean of ops/s over the best anchor, per
// store, placement and operations in flight), written from benchmark/results/latest.json
// between two markers, so that the README shows what the committed run measured and nothing
// else. `npm run bench` rewrites it when its results go to benchmark/results.
//   node benchmark/readme-table.js           rewrite the README's table
//   node benchmark/readme-table.js --check   exit 1 if the README's table is not the results'

const fs = require('node:fs')
const path = require('node:path')
const { STORES } = require('./stores')

const ROOT = path.join(__dirname, '..')
const README = path.join(ROOT, 'README.md')
const RESULTS = path.join(__dirname, 'results', 'latest.json')
const START = '<!-- benchmark summary: written by benchmark/readme-table.js from benchmark/results/latest.json -->'
const END = '<!-- end of benchmark summary -->'

/** The markdown table of one run's store-operation geometric means. */
function summaryTable(raw) {
  const geomeans = raw.ops && raw.ops.geomeans
  if (!Array.isArray(geomeans) || geomeans.length === 0) throw new Error('the results have no store-operation geometric means (was the ops phase run?)')
  const inflights = raw.meta.config.inflights
  const stores = [...new Set(geomeans.map((g) => g.store))]
  const cell = (store, placement) => {
    const g = geomeans.find((x) => x.store === store && x.placement === placement)
    return g ? inflights.map((n) => `${g.byInflight[n].toFixed(2)}×`).join(' / ') : '–'
  }
  const within = inflights.join(' / ')
  const lines = [`| store | same core, ${within} in flight | other core, ${within} in flight |`, '|---|---|---|']
  for (const store of stores) lines.push(`| ${STORES[store] ? STORES[store].label : store} | ${cell(store, 'same')} | ${cell(store, 'other')} |`)
  return lines.join('\n')
}

/** `readme` with the block between the markers replaced by `table`. */
function withTable(readme, table) {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end < start) throw new Error(`README.md has no benchmark summary block (the lines ${START} and ${END})`)
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`
}

/** The README as it is and as the results say it should be. */
function readmeAndExpected() {
  const readme = fs.readFileSync(README, 'utf8')
  return [readme, withTable(readme, summaryTable(JSON.parse(fs.readFileSync(RESULTS, 'utf8'))))]
}

/** Rewrites the README's table from the results; returns whether it changed. */
function updateReadme() {
  const [readme, next] = readmeAndExpected()
  if (next === readme) return false
  fs.writeFileSync(README, next)
  return true
}

function main() {
  if (process.argv.includes('--check')) {
    const [readme, expected] = readmeAndExpected()
    if (expected !== readme) {
      console.error('README.md: the benchmark summary is not the one of benchmark/results/latest.json; run node benchmark/readme-table.js')
      process.exit(1)
    }
    console.log('README.md: the benchmark summary matches benchmark/results/latest.json')
  } else {
    console.log(updateReadme() ? 'README.md: benchmark summary rewritten' : 'README.md: benchmark summary already up to date')
  }
}

if (require.main === module) main()

module.exports = { summaryTable, withTable, updateReadme, START, END }
