'use strict'
// A hand-rolled SVG bar chart of the ratios: one panel per placement for the store operations,
// one for HTTP and bulk. Bars grow up or down from 1× on a log2 scale.

const { STORES } = require('./stores')

const COLORS = { rs: '#d9480f', 'cr10-node-redis': '#1c7ed6', 'cr10-ioredis': '#37b24d', cr3: '#868e96' }
const BAR = 7
const GAP = 10
const LEFT = 56
const PANEL_H = 200
const LABEL_H = 78
const MIN = 1 / 4
const MAX = 4

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const bytes = (n) => (n >= 1000 ? `${n / 1000}K` : `${n}B`)

/** One panel: `groups` = [{ label, sep?, values: { store: ratio } }], drawn at vertical offset `top`. */
function panel(title, groups, stores, top) {
  const groupW = stores.length * BAR + GAP
  const y = (r) => {
    const clamped = Math.min(MAX, Math.max(MIN, r))
    return top + 20 + ((Math.log2(MAX) - Math.log2(clamped)) / (Math.log2(MAX) - Math.log2(MIN))) * PANEL_H
  }
  const right = LEFT + groups.length * groupW
  const parts = [`<text x="${LEFT}" y="${top + 12}" class="h">${esc(title)}</text>`]
  for (const r of [0.25, 0.5, 1, 2, 4]) {
    parts.push(`<line x1="${LEFT}" x2="${right}" y1="${y(r)}" y2="${y(r)}" class="${r === 1 ? 'one' : 'grid'}"/>`)
    parts.push(`<text x="${LEFT - 6}" y="${y(r) + 4}" class="ax">${r}×</text>`)
  }
  groups.forEach((g, i) => {
    const x0 = LEFT + i * groupW + GAP / 2
    if (g.sep && i > 0) parts.push(`<line x1="${x0 - GAP / 2}" x2="${x0 - GAP / 2}" y1="${top + 20}" y2="${top + 20 + PANEL_H}" class="sep"/>`)
    stores.forEach((s, k) => {
      const r = g.values[s]
      if (!(r > 0)) return
      const y1 = y(1)
      const yr = y(r)
      const h = Math.max(1, Math.abs(yr - y1))
      const faded = g.disturbed && g.disturbed[s] ? ' fill-opacity="0.3"' : ''
      const note = faded ? ' (disturbed by other processes)' : ''
      parts.push(
        `<rect x="${x0 + k * BAR}" y="${Math.min(yr, y1)}" width="${BAR - 1}" height="${h}" fill="${COLORS[s]}"${faded}><title>${esc(`${STORES[s].label}, ${g.label}: ${r.toFixed(2)}×${note}`)}</title></rect>`,
      )
    })
    const lx = x0 + (stores.length * BAR) / 2
    const ly = top + 20 + PANEL_H + 8
    parts.push(`<text transform="translate(${lx},${ly}) rotate(-60)" class="lb">${esc(g.label)}</text>`)
  })
  return { svg: parts.join('\n'), width: right + 20, height: 20 + PANEL_H + LABEL_H }
}

function chart(results) {
  const { meta } = results
  const stores = meta.config.stores
  const m = meta.machine
  const panels = []
  for (const placement of meta.config.placements) {
    const groups = []
    for (const op of meta.config.ops) {
      let first = true
      for (const size of meta.config.sizes) {
        for (const inflight of meta.config.inflights) {
          const values = {}
          const disturbed = {}
          const cells = results.ops.cells.filter((c) => c.placement === placement && c.op === op && c.size === size && c.inflight === inflight)
          const anchorDisturbed = (c) => cells.some((a) => a.store === c.anchor && a.disturbed)
          for (const c of cells) {
            values[c.store] = c.ratio
            disturbed[c.store] = c.disturbed || anchorDisturbed(c)
          }
          groups.push({ label: `${op} ${bytes(size)} ×${inflight}`, sep: first, values, disturbed })
          first = false
        }
      }
    }
    if (results.ops.cells.some((c) => c.placement === placement)) {
      const where = placement === 'same' ? 'the same core' : 'the other core'
      panels.push({ title: `Store operations, Redis on ${where}: ops/s ÷ best JS anchor (same round)`, groups })
    }
  }
  const extra = []
  for (const route of ['/read', '/write']) {
    const values = {}
    for (const c of results.http.cells) if (c.route === route) values[c.store] = c.ratio
    if (Object.keys(values).length) extra.push({ label: `HTTP ${route}`, sep: extra.length === 0, values })
  }
  for (const n of meta.config.bulk.counts) {
    let first = true
    for (const op of meta.config.bulkOps) {
      const values = {}
      for (const c of results.bulk.cells) if (c.n === n && c.op === op && c.ratio > 0) values[c.store] = c.ratio
      if (Object.keys(values).length === 0) continue
      extra.push({ label: `${op} ${n >= 1000 ? `${n / 1000}k` : n}`, sep: first, values })
      first = false
    }
  }
  if (extra.length) panels.push({ title: 'HTTP req/s and bulk speed (anchor time ÷ time), vs connect-redis 10 + node-redis 5', groups: extra })

  const HEAD = 78
  let top = HEAD
  let width = 1040
  const body = []
  for (const p of panels) {
    const drawn = panel(p.title, p.groups, stores, top)
    body.push(drawn.svg)
    width = Math.max(width, drawn.width)
    top += drawn.height
  }
  const legend = stores
    .map((s, k) => `<rect x="${LEFT + k * 230}" y="52" width="10" height="10" fill="${COLORS[s]}"/><text x="${LEFT + k * 230 + 14}" y="61" class="lg">${esc(STORES[s].label)}</text>`)
    .join('\n')
  const head = [
    `<text x="${LEFT}" y="20" class="t">connect-redis-rs vs connect-redis (${esc(meta.config.mode)} mode, ${meta.config.rounds} round${meta.config.rounds > 1 ? 's' : ''})</text>`,
    `<text x="${LEFT}" y="38" class="s">${esc(`${m.cpu}, ${m.cores} cores · Node ${m.node} · redis-server ${m.redis} · ${meta.finishedAt} · rerun: ${meta.config.command} · faded bars: measured while other processes were busy`)}</text>`,
    legend,
  ].join('\n')
  const style = `<style>
text { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; fill: #212529 }
.t { font-size: 16px; font-weight: 600 } .s { font-size: 11px; fill: #495057 } .h { font-size: 12px; font-weight: 600 }
.ax { font-size: 10px; text-anchor: end; fill: #495057 } .lb { font-size: 9px; text-anchor: end; fill: #495057 } .lg { font-size: 11px }
.grid { stroke: #dee2e6; stroke-width: 1 } .one { stroke: #212529; stroke-width: 1 } .sep { stroke: #adb5bd; stroke-dasharray: 2 3 }
</style>`
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + 10}" viewBox="0 0 ${width} ${top + 10}">
<rect width="100%" height="100%" fill="#fff"/>
${style}
${head}
${body.join('\n')}
</svg>
`
}

module.exports = { chart }
