'use strict'
// A V8 CPU profile of this process's main thread over a stretch of its life (node:inspector),
// summed by where the time went: a package, a module of Node's own, a file of this repo, a
// native function, or V8's own entries ("(garbage collector)", "(program)", "(idle)").

const inspector = require('node:inspector')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const SAMPLE_US = 1000

function post(session, method, params) {
  return new Promise((resolve, reject) => session.post(method, params, (err, value) => (err ? reject(err) : resolve(value))))
}

/** Profiles the main thread while `during()` runs; resolves with `{ totalUs, areas: { area: µs } }`. */
async function profileWhile(during) {
  const session = new inspector.Session()
  session.connect()
  try {
    await post(session, 'Profiler.enable')
    await post(session, 'Profiler.setSamplingInterval', { interval: SAMPLE_US })
    await post(session, 'Profiler.start')
    await during()
    const { profile } = await post(session, 'Profiler.stop')
    return byArea(profile)
  } finally {
    session.disconnect()
  }
}

/** Self time per area over a profile (`Profiler.Profile`). */
function byArea(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const areas = {}
  let totalUs = 0
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] || 0
    const area = areaOf(nodes.get(id).callFrame)
    areas[area] = (areas[area] || 0) + us
    totalUs += us
  })
  return { totalUs, areas }
}

function areaOf({ url, functionName }) {
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName || '(anonymous)'}`
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)
  if (pkg) return pkg[1]
  if (url.startsWith('node:')) return `node:${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`
  const file = url.replace(/^file:\/\//, '')
  return file.startsWith(ROOT) ? path.relative(ROOT, file) : file
}

module.exports = { profileWhile, byArea }
