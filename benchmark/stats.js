'use strict'
// Small statistics helpers shared by the children and the report.

function median(values) {
  const xs = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const mid = xs.length >> 1
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

/** Percentile (0–100) of the first `n` entries of a typed array, by sorting a copy. */
function percentiles(samples, n, ps) {
  const xs = Float64Array.from(samples.subarray(0, n)).sort()
  return ps.map((p) => (n === 0 ? null : xs[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]))
}

function geomean(values) {
  const xs = values.filter((x) => typeof x === 'number' && x > 0)
  if (xs.length === 0) return null
  return Math.exp(xs.reduce((sum, x) => sum + Math.log(x), 0) / xs.length)
}

/** The largest of `values` that are numbers (others are left out), or null if none is. */
function maxOf(values) {
  return values.reduce((max, x) => (typeof x === 'number' && Number.isFinite(x) && (max === null || x > max) ? x : max), null)
}

/** The item whose `key` is the median (the lower middle one of an even count), whole. */
function medianItem(items, key) {
  const sorted = [...items].sort((a, b) => a[key] - b[key])
  return sorted[(sorted.length - 1) >> 1]
}

/** The item with the least `of(item)`, the first of equals; null for none. */
function leastBy(items, of) {
  return items.reduce((least, item) => (least !== null && of(least) <= of(item) ? least : item), null)
}

module.exports = { median, medianItem, maxOf, leastBy, percentiles, geomean }
