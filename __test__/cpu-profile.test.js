const test = require('ava')
const path = require('node:path')
const { byArea, profileWhile } = require('../benchmark/cpu-profile')

const ROOT = path.resolve(__dirname, '..')
const frame = (url, functionName = 'f') => ({ callFrame: { url, functionName } })

test('a profile is summed by package, module of Node, file of the repo, native function and V8 entry', (t) => {
  const nodes = [
    frame(`file://${ROOT}/node_modules/express-session/index.js`),
    frame(`file://${ROOT}/node_modules/@redis/client/dist/lib/client/index.js`),
    frame('node:internal/streams/readable'),
    frame('node:_http_server'),
    frame(`file://${ROOT}/lib/native-driver.js`),
    frame('', 'writev'),
    frame('', '(garbage collector)'),
  ].map((n, i) => ({ id: i + 1, ...n }))
  const samples = [1, 1, 2, 3, 4, 5, 6, 7, 7]
  const timeDeltas = [100, 200, 300, 400, 500, 600, 700, 800, 900]
  const { totalUs, areas } = byArea({ nodes, samples, timeDeltas })
  t.is(totalUs, 4500)
  t.deepEqual(areas, {
    'express-session': 300,
    '@redis/client': 300,
    'node:streams': 400,
    'node:_http_server': 500,
    'lib/native-driver.js': 600,
    'native writev': 700,
    '(garbage collector)': 1700,
  })
})

test('profileWhile profiles the main thread while its function runs', async (t) => {
  const busyUntil = (ms) => {
    const end = Date.now() + ms
    let x = 0
    while (Date.now() < end) x += Math.sqrt(x + 1)
    return x
  }
  const { totalUs, areas } = await profileWhile(async () => {
    busyUntil(60)
  })
  t.true(totalUs >= 40000, `profiled ${totalUs} µs of a 60 ms busy loop`)
  t.true((areas['__test__/cpu-profile.test.js'] || 0) >= 20000, JSON.stringify(areas))
})
