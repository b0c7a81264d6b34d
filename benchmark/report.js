'use strict'
// From raw rows to results: medians over rounds, ratios paired round by round against the best
// anchor, then latest.json, latest.md and chart.svg.

const { targetsMarkdown } = require('./targets')
const fs = require('node:fs')
const path = require('node:path')
const { STORES, anchorFor, anchorCell } = require('./stores')
const { median, maxOf, geomean } = require('./stats')
const { chart } = require('./svg')
const { ROUTE_OPS } = require('./http')

/** Groups rows by `keyOf`, keeping insertion order. */
function groupBy(rows, keyOf) {
  const groups = new Map()
  for (const row of rows) {
    const key = keyOf(row)
    if (!groups.has(key)) groups.set(key, [])
    groups.get(key).push(row)
  }
  return groups
}

/**
 * One cell per `keys` and store: the medians over rounds of `rate` and `medians`, and the median
 * of the per-round ratio (`rate` ÷ the anchor's `rate` in the same round and cell).
 */
function summarizeCells(rows, { keys, anchorOf, rate, medians }) {
  const cellKey = (r, store) => `${keys.map((k) => r[k]).join('|')}|${store}`
  const byRound = new Map(rows.map((r) => [`${cellKey(r, r.store)}|${r.round}`, r]))
  const cells = []
  for (const group of groupBy(rows, (r) => cellKey(r, r.store)).values()) {
    const first = group[0]
    const anchor = anchorOf(first)
    const ratios = group.map((r) => {
      const a = byRound.get(`${cellKey(r, anchor)}|${r.round}`)
      return a ? r[rate] / a[rate] : null
    })
    const cell = { store: first.store, anchor, rounds: group.length, ratio: median(ratios) }
    for (const k of keys) cell[k] = first[k]
    for (const field of [rate, ...medians]) cell[field] = median(group.map((r) => r[field]))
    cells.push({ group, cell })
  }
  return cells
}

/** One cell per (placement, size, in flight, op, store). */
function summarizeOps(rows, maxForeign = 0.25) {
  return summarizeCells(rows, {
    keys: ['placement', 'size', 'inflight', 'op'],
    anchorOf: (r) => anchorFor(r.inflight),
    rate: 'opsPerSec',
    medians: ['p50Us', 'p99Us', 'busyUsPerOp', 'cpuUsPerOp'],
  }).map(({ group, cell }) => ({
    ...cell,
    // Other processes' CPU during the timed window (cores), and whether it spoiled the cell.
    foreign: median(group.map((r) => r.foreign)),
    disturbed: group.some((r) => r.foreign > maxForeign),
  }))
}

/** Geometric mean of the ratios per store, placement and in-flight count (and over all). */
function geomeans(cells) {
  const out = []
  for (const group of groupBy(cells, (c) => `${c.store}|${c.placement}`).values()) {
    const { store, placement } = group[0]
    const byInflight = {}
    for (const g of groupBy(group, (c) => c.inflight).values()) byInflight[g[0].inflight] = geomean(g.map((c) => c.ratio))
    const ratios = group.map((c) => c.ratio).filter((x) => x > 0)
    out.push({ store, placement, byInflight, all: geomean(ratios), worst: ratios.length ? Math.min(...ratios) : null })
  }
  return out
}

/** Bulk: medians over rounds; ratio = the anchor's time ÷ this store's time (above 1 is faster). */
function summarizeBulk(rows, anchor = 'cr10-node-redis') {
  const byRound = new Map(rows.map((r) => [`${r.n}|${r.op}|${r.round}|${r.store}`, r]))
  const cells = []
  for (const group of groupBy(rows, (r) => `${r.n}|${r.op}|${r.store}`).values()) {
    const { n, op, store } = group[0]
    if (group[0].unsupported) {
      cells.push({ n, op, store, unsupported: true })
      continue
    }
    const failed = group.find((r) => r.error)
    if (failed) {
      cells.push({ n, op, store, error: failed.error, rounds: group.length, failedRounds: group.filter((r) => r.error).length })
      continue
    }
    const ratios = group.map((r) => {
      const a = byRound.get(`${n}|${op}|${r.round}|${anchor}`)
      return a && a.ms > 0 ? a.ms / r.ms : null
    })
    const worst = group.reduce((w, r) => (r.slowestUs > ((w && w.slowestUs) || -1) ? r : w), null)
    cells.push({
      n,
      op,
      store,
      anchor,
      rounds: group.length,
      ms: median(group.map((r) => r.ms)),
      ratio: median(ratios),
      busyMs: median(group.map((r) => r.busyMs)),
      stallMs: Math.max(...group.map((r) => r.stallMs)),
      slowestUs: worst ? worst.slowestUs : null,
      slowestCommand: worst ? worst.slowestCommand : null,
      slowestKindMedianUs: worst ? worst.slowestKindMedianUs : null,
      slowestScanUs: maxOf(group.map((r) => r.slowestScanUs)),
    })
  }
  return cells
}

function summarizeHttp(rows, anchor = 'cr10-node-redis') {
  return summarizeCells(rows, {
    keys: ['route'],
    anchorOf: () => anchor,
    rate: 'reqPerSec',
    medians: ['p50Us', 'p99Us', 'busyUsPerReq', 'serverElu'],
  }).map(({ cell }) => cell)
}

// ---- formatting -----------------------------------------------------------------------------

const num = (x, digits = 0) => (x == null ? '–' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }))
const rate = (x) => (x == null ? '–' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : num(x))
const times = (x) => (x == null ? '–' : `${x.toFixed(2)}×`)
const micros = (x) => (x == null ? '–' : x >= 100 ? num(x) : num(x, 1))
const bytes = (n) => (n >= 1000 ? `${n / 1000} KB` : `${n} B`)
const short = (store) => STORES[store].short
const PLACEMENT = {
  same: 'Redis on the same core as Node',
  other: 'Redis on the other core',
}


/** One row per op × size × in flight of `placement`, one column per store: `render(cell, store)`. */
function cellRows(config, cells, placement, stores, render) {
  const rows = []
  for (const op of config.ops) {
    for (const size of config.sizes) {
      for (const inflight of config.inflights) {
        const row = [op, bytes(size), String(inflight)]
        for (const s of stores) {
          const c = cells.find((x) => x.placement === placement && x.op === op && x.size === size && x.inflight === inflight && x.store === s)
          row.push(c ? render(c, s) : '–')
        }
        rows.push(row)
      }
    }
  }
  return rows
}

function table(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

function markdown(results) {
  const { meta } = results
  const stores = meta.config.stores
  const m = meta.machine
  const out = []
  out.push(`# connect-redis-rs benchmark (${meta.config.mode} mode)`)
  out.push('')
  const phases = Object.entries(meta.phaseSeconds || {}).map(([k, v]) => `${k} ${v < 10 ? v.toFixed(1) : Math.round(v)} s`).join(', ')
  out.push(`Rerun: \`${meta.config.command}\` (${Math.round(meta.durationS)} s: ${phases}; finished ${meta.finishedAt})`)
  out.push('')
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.os}; Node ${m.node}; redis-server ${m.redis}; ` +
      `load average ${m.loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${m.loadEnd.map((x) => x.toFixed(2)).join(' ')} at the end; ` +
      `CPU busy with other work just before the start: ${m.busyBefore == null ? '?' : `${Math.round(m.busyBefore * 100)}%`}. ` +
      `Commit ${m.commit}.`,
  )
  out.push('')
  if (m.busyBefore > 0.15) {
    out.push(
      `> **The machine was busy**: ${Math.round(m.busyBefore * 100)}% of its CPU time went to other work in the second before ` +
        'the run started. Timings from a shared machine are noisy; rerun on a quiet one before drawing conclusions.',
    )
    out.push('')
  }
  out.push(`Stores: ${[...new Set([...stores, ...(meta.config.httpStores || [])])].map((s) => `**${short(s)}** = ${STORES[s].label} (${m.versions[s] || ''})`).join('; ')}.`)
  out.push('')
  out.push(
    `Each store runs in its own child process per cell, pinned to core 0, with the rounds interleaved ` +
      `(${meta.config.rounds} round${meta.config.rounds > 1 ? 's' : ''}; stores rotating within a cell). ` +
      `Cells are medians over rounds. **×** is ops/s over the best JS anchor's in the same round and cell, ` +
      `the median of those ratios: the anchor is cr3 + node_redis 2.8 at 1 in flight and cr10 + node-redis 5 at 16 and 256. ` +
      `Operations are called as express-session calls them (callbacks, real Session objects of the given JSON size). ` +
      `Each child first pre-warms its store (${num(meta.config.preWarmOps)} operations on 200 B sessions at 64 in flight), ` +
      `then each operation gets a ${meta.config.warmMs} ms warm-up and a timed window of ` +
      `${meta.config.maxOps ? `${meta.config.maxOps} ops` : `${meta.config.durMs} ms`} ` +
      `(set → get → touch → destroy over a pool of pre-stored sessions).`,
  )
  out.push('')
  if (results.failures.length) {
    out.push(`**Failures (${results.failures.length})**:`)
    out.push('')
    for (const f of results.failures) out.push(`- ${f}`)
    out.push('')
  }

  if (results.ops.cells.length && results.http.cells.length && results.bulk.cells.length) {
    out.push(targetsMarkdown(results))
  }

  if (results.ceiling.length) {
    out.push('## Ceiling: redis-benchmark on the same server')
    out.push('')
    out.push(
      table(
        ['placement', 'GET ops/s', 'p50', 'command'],
        results.ceiling.map((c) => [PLACEMENT[c.placement], `${rate(c.opsPerSec)}${c.runs && c.runs.length > 1 ? ` (median of ${c.runs.map(rate).join(', ')})` : ''}`, c.p50Us == null ? '–' : `${num(c.p50Us)} µs`, `\`${c.command}\``]),
      ),
    )
    out.push('')
    const floor = results.getFloor
    if (floor) {
      out.push(
        `The floor beside it: a "store" that only JSON.parses each 200 B session, already in memory (no Redis, no socket: benchmark/parse-floor.js), answering the gets of a turn in one later turn, through the same harness at 256 in flight, pinned to core 0: ${rate(floor.opsPerSec)} gets/s (median of ${floor.runs.length}: ${floor.runs.map(rate).join(', ')}). No store that returns parsed sessions gets more here.` +
          (floor.withPromise
            ? ` The same floor with each get also returning a Promise that resolves once its callback has run (SPEC.md: every store method returns one), alternating with it: ${rate(floor.withPromise.opsPerSec)} gets/s (median of ${floor.withPromise.runs.length}: ${floor.withPromise.runs.map(rate).join(', ')}). No store that keeps SPEC gets more here; the get-ceiling target is judged against this one.`
            : ''),
      )
      out.push('')
    }
  }

  const { cells, geomeans: gms } = results.ops
  if (cells.length) {
    out.push('## Store operations: geometric mean of × per store')
    out.push('')
    const inflights = meta.config.inflights
    const placements = meta.config.placements
    out.push(
      table(
        ['store', ...placements.flatMap((p) => [...inflights.map((i) => `${p} core ×${i} in flight`), `${p} core all (worst)`])],
        stores.map((s) => [
          short(s),
          ...placements.flatMap((p) => {
            const g = gms.find((x) => x.store === s && x.placement === p)
            return g ? [...inflights.map((i) => times(g.byInflight[i])), `${times(g.all)} (${times(g.worst)})`] : inflights.map(() => '–')
          }),
        ]),
      ),
    )
    out.push('')
    for (const placement of placements) {
      out.push(`## Store operations, ${PLACEMENT[placement]}: ops/s and ×`)
      out.push('')
      const rows = cellRows(meta.config, cells, placement, stores, (c, s) => {
        const mark = c.disturbed || (anchorCell(cells, c) || {}).disturbed ? ' †' : ''
        return `${rate(c.opsPerSec)} ${c.anchor === s ? '(anchor)' : `**${times(c.ratio)}**`}${mark}`
      })
      out.push(table(['op', 'session', 'in flight', ...stores.map(short)], rows))
      out.push('')
    }
    const disturbed = cells.filter((c) => c.disturbed).length
    if (disturbed) {
      out.push(
        `† ${disturbed} of ${cells.length} cells were measured while other processes used more than ` +
          `${meta.config.maxForeign} of a core (even after ${meta.config.retries} retr${meta.config.retries === 1 ? 'y' : 'ies'}), ` +
          'in that store\'s run or its anchor\'s: their numbers, and × against them, are unreliable.',
      )
      out.push('')
    }
    out.push('## Latency and main-thread cost per operation')
    out.push('')
    out.push(
      'p50 / p99 latency in µs; **busy** = event-loop utilization × wall time ÷ ops (main thread, µs/op); ' +
        '**cpu** = process CPU time (all threads, user + system) ÷ ops. On a loaded machine busy also counts time the ' +
        'main thread was runnable but descheduled.',
    )
    out.push('')
    for (const placement of placements) {
      out.push(`<details><summary>${PLACEMENT[placement]}</summary>`)
      out.push('')
      const rows = cellRows(meta.config, cells, placement, stores, (c) =>
        `${micros(c.p50Us)} / ${micros(c.p99Us)} · ${micros(c.busyUsPerOp)} · ${micros(c.cpuUsPerOp)}`,
      )
      out.push(table(['op', 'session', 'in flight', ...stores.map((s) => `${short(s)}: p50 / p99 · busy · cpu`)], rows))
      out.push('')
      out.push('</details>')
      out.push('')
    }
  }

  if (results.bulk.cells.length) {
    out.push(`## Bulk operations (200 B sessions, ${PLACEMENT[meta.placementOf.bulk]})`)
    out.push('')
    out.push(
      'Time of one call (median over runs); **×** = cr10 + node-redis 5 time ÷ this store\'s (above 1 is faster); ' +
        '**busy** = main-thread time; **stall** = longest event-loop delay (monitorEventLoopDelay, 1 ms resolution); ' +
        '**slowest command** = longest Redis command in SLOWLOG (slowlog-log-slower-than 0, reset before each call), with the median time of the commands of its name in the same calls.',
    )
    out.push('')
    // A store that offers only some operations (the parse floor) shows only those.
    const shown = results.bulk.cells.filter((c) => !(c.unsupported && STORES[c.store].bulkOnly))
    const rows = shown.map((c) =>
      c.unsupported
        ? [num(c.n), c.op, short(c.store), 'not supported', '', '', '', '']
        : c.error
          ? [num(c.n), c.op, short(c.store), `**fails** (${c.failedRounds}/${c.rounds}): ${c.error}`, '', '', '', '']
          : [num(c.n), c.op, short(c.store), `${num(c.ms, 1)} ms`, times(c.ratio), `${num(c.busyMs, 1)} ms`, `${num(c.stallMs, 1)} ms`, `${num(c.slowestUs)} µs \`${c.slowestCommand}\`${c.slowestKindMedianUs != null ? ` (median ${num(c.slowestKindMedianUs)} µs)` : ''}`],
    )
    out.push(table(['sessions', 'op', 'store', 'time', '×', 'busy', 'stall', 'slowest command'], rows))
    out.push('')
  }

  if (results.http.cells.length) {
    const h = meta.config.http
    out.push('## HTTP end to end')
    out.push('')
    out.push(
      `express ${m.versions.express} + express-session ${m.versions['express-session']} (resave: false); ` +
        `GET /read reads the session (${ROUTE_OPS['/read'].join(' + ')}), GET /write changes it (${ROUTE_OPS['/write'].join(' + ')}); ${num(h.sessions)} sessions of 200 B, ` +
        `their signed cookies sent round-robin by autocannon ${m.versions.autocannon} from another process ` +
        `(${h.connections} connections). Every store's server runs through the whole part on core 0, with Redis; autocannon on core 1 warms each for ${h.warmS} s on both routes, then times ${h.rounds} rounds of ${h.durationS} s windows, one per store and route, stores in rotating order. ` +
        '**×** = req/s over cr10 + node-redis 5\'s in the same round; **busy** = server main-thread time per request; ' +
        '**server ELU** = how busy the server\'s event loop was (near 100% = the server is the bottleneck).',
    )
    out.push('')
    out.push(
      table(
        ['route', 'store', 'req/s', '×', 'p50', 'p99', 'busy µs/req', 'server ELU'],
        results.http.cells.map((c) => [
          c.route,
          short(c.store),
          rate(c.reqPerSec),
          times(c.ratio),
          `${num(c.p50Us / 1000, 1)} ms`,
          `${num(c.p99Us / 1000, 1)} ms`,
          micros(c.busyUsPerReq),
          c.serverElu == null ? '–' : `${Math.round(c.serverElu * 100)}%`,
        ]),
      ),
    )
    out.push('')
  }
  out.push('Chart: [chart.svg](chart.svg). Raw rows and every median: [latest.json](latest.json).')
  out.push('')
  return out.join('\n')
}

/** Sorts cells by the given fields, each in the order its values take in `orders[field]`. */
function ordered(cells, orders) {
  const rank = (field, value) => orders[field].indexOf(value)
  return [...cells].sort((a, b) => {
    for (const field of Object.keys(orders)) {
      const d = rank(field, a[field]) - rank(field, b[field])
      if (d) return d
    }
    return 0
  })
}

function summarize(raw) {
  const { config } = raw.meta
  const opsCells = ordered(summarizeOps(raw.ops, config.maxForeign), {
    placement: config.placements,
    op: config.ops,
    size: config.sizes,
    inflight: config.inflights,
    store: config.stores,
  })
  return {
    meta: raw.meta,
    failures: raw.failures,
    ceiling: raw.ceiling,
    getFloor: raw.getFloor,
    ops: { cells: opsCells, geomeans: geomeans(opsCells), rows: raw.ops },
    bulk: { cells: ordered(summarizeBulk(raw.bulk), { n: config.bulk.counts, op: config.bulkOps, store: config.bulkStores || config.stores }), rows: raw.bulk },
    http: { cells: ordered(summarizeHttp(raw.http), { route: ['/read', '/write'], store: config.httpStores || config.stores }), rows: raw.http },
  }
}

/** Writes latest.json, latest.md and chart.svg into `dir`; returns the results and the markdown. */
function writeReport(raw, dir) {
  const results = summarize(raw)
  const md = markdown(results)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 1)}\n`)
  fs.writeFileSync(path.join(dir, 'latest.md'), md)
  fs.writeFileSync(path.join(dir, 'chart.svg'), chart(results))
  return { results, md }
}

module.exports = { writeReport, summarize, markdown }
