'use strict'
// Reading SLOWLOG entries (`SLOWLOG GET`: [id, time, micros, args, addr, name]) for the bulk test
// and the benchmark: how many arguments a command had, a short description of it, and which
// slow commands were slow by their own work rather than by a pause of the machine.
//
// Redis times a command by the wall clock, so a VM that stops Redis's thread for 15 ms makes a
// 0.5 ms MGET a 15 ms one (CI logged exactly that: a 17 ms MGET of 500 keys, and a 12.9 ms SCAN
// of COUNT 100). Commands of the same name and argument count do the same work, so a slow
// command is judged beside them: far over their median, it was paused.

const { median } = require('../benchmark/stats')

/** A slow command that took more than this many times its peers' median was paused. */
const PAUSE_FACTOR = 5
/** Fewer peers than this are no evidence of a pause: such a slow command counts as its own. */
const MIN_PEERS = 10

/** How many arguments the command had, the name included: SLOWLOG keeps 32 and counts the rest. */
function argCount(args) {
  const more = /^\.\.\. \((\d+) more arguments\)$/.exec(String(args[args.length - 1]))
  return more ? args.length - 1 + Number(more[1]) : args.length
}

/** The command, short: `SCAN 1234 MATCH sess:* COUNT 100`, `MGET (500 keys)`. */
function describeArgs(args) {
  const count = argCount(args)
  if (count <= 7) return args.map((a) => String(a).slice(0, 40)).join(' ')
  return `${String(args[0]).toUpperCase()} (${count - 1} keys)`
}

/**
 * The entries that took `slowUs` or more, split into `own` (slow by the command's work: its
 * peers are slow too at the median, or it has too few peers to tell) and `paused` (over
 * PAUSE_FACTOR x the median of at least MIN_PEERS peers). Each as { us, command, peerMedianUs,
 * peers }. Peers are the entries of the same name and argument count, the slow one included.
 * Entries from a client named `skipClient` are left out.
 */
function judgeSlow(entries, slowUs, { skipClient } = {}) {
  const kinds = new Map()
  const commands = []
  for (const [, , micros, args, , client] of entries) {
    if (skipClient !== undefined && String(client) === skipClient) continue
    const kind = `${String(args[0]).toUpperCase()}/${argCount(args)}`
    if (!kinds.has(kind)) kinds.set(kind, [])
    kinds.get(kind).push(Number(micros))
    commands.push({ us: Number(micros), kind, args })
  }
  const own = []
  const paused = []
  for (const c of commands) {
    if (c.us < slowUs) continue
    const times = kinds.get(c.kind)
    const peerMedianUs = median(times)
    const judged = { us: c.us, command: describeArgs(c.args), peerMedianUs, peers: times.length }
    if (times.length >= MIN_PEERS && c.us > PAUSE_FACTOR * peerMedianUs) paused.push(judged)
    else own.push(judged)
  }
  return { own, paused, logged: commands.length }
}

const describeJudged = (j) => `${j.us} us: ${j.command} (median of ${j.peers} alike ${Math.round(j.peerMedianUs)} us)`

module.exports = { argCount, describeArgs, judgeSlow, describeJudged, PAUSE_FACTOR, MIN_PEERS }
