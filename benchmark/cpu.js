'use strict'
// How much CPU other work took while we measured. On a shared machine a build on another core
// (or the hypervisor, as steal time) can halve a short timed window; the ops runner retries a
// cell measured under such load. Linux /proc only; elsewhere every reading is null.

const fs = require('node:fs')

const TICK_MS = 10 // USER_HZ is 100 on every Linux this runs on

/** Busy CPU time of the whole machine (steal, the hypervisor's, included) and of the given pids so far, in ms. */
function snapshot(pids = []) {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number)
    // user nice system idle iowait irq softirq steal. Interrupt time is left out: loopback TCP
    // runs in softirq, which is nobody's process time, and would count as foreign load.
    const busy = f[0] + f[1] + f[2] + f[7]
    const total = f.reduce((a, b) => a + b, 0)
    let procs = 0
    for (const pid of pids) {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      procs += Number(fields[11]) + Number(fields[12]) // utime, stime
    }
    return { busyMs: busy * TICK_MS, totalMs: total * TICK_MS, procsMs: procs * TICK_MS, stealMs: f[7] * TICK_MS }
  } catch {
    return null
  }
}

/**
 * Cores' worth of CPU that went to anything but the given pids and `ownMs` (this process's CPU
 * time over the interval, from process.cpuUsage) between two snapshots taken `wallMs` apart.
 */
function foreignLoad(a, b, ownMs, wallMs) {
  // /proc counts in 10 ms ticks: too coarse for a shorter window.
  if (!a || !b || !(wallMs >= 50)) return null
  const foreignMs = b.busyMs - a.busyMs - (b.procsMs - a.procsMs) - ownMs
  return Math.max(0, foreignMs / wallMs)
}

/** The fraction of all CPUs busy over `ms` (before a run: is the machine quiet?). */
async function busyFraction(ms) {
  const a = snapshot()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const b = snapshot()
  if (!a || !b || b.totalMs === a.totalMs) return null
  return (b.busyMs - a.busyMs) / (b.totalMs - a.totalMs)
}

/** Waits (at most `maxMs`) until under `below` of all CPUs are busy over a quarter second. */
async function waitQuiet({ maxMs = 5000, below = 0.1 } = {}) {
  const deadline = Date.now() + maxMs
  for (;;) {
    const busy = await busyFraction(250)
    if (busy === null || busy < below || Date.now() >= deadline) return busy
  }
}

module.exports = { snapshot, foreignLoad, busyFraction, waitQuiet }
