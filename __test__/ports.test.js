'use strict'
// Test files run side by side, each starting its own redis-servers: a port one process picks must
// not be handed to another (CI once met a cluster node's port answered by another file's server).

const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { freePort, claimPort, startRedis, RedisServer } = require('../scripts/redis-server')

const CLAIMS = path.join(os.tmpdir(), 'connect-redis-rs-ports')
const pick = (n) =>
  JSON.parse(
    execFileSync(process.execPath, ['-e', `const { freePort } = require(${JSON.stringify(require.resolve('../scripts/redis-server'))}); (async () => { const ports = []; for (let i = 0; i < ${n}; i++) ports.push(await freePort()); console.log(JSON.stringify(ports)); setTimeout(() => {}, 300) })()`], { encoding: 'utf8' }),
  )

test('ports claimed by a live process are not handed out again, here or in another process', async (t) => {
  const mine = []
  for (let i = 0; i < 200; i++) mine.push(await freePort())
  t.is(new Set(mine).size, 200)
  for (const port of mine) t.is(fs.readFileSync(path.join(CLAIMS, String(port), 'pid'), 'utf8'), String(process.pid))
  const theirs = pick(200)
  t.is(theirs.filter((p) => mine.includes(p)).length, 0)
  // The other process has exited: its claims went with it.
  t.false(theirs.some((p) => fs.existsSync(path.join(CLAIMS, String(p)))))
})

test("a dead process's claim is taken over; a live one's is not", async (t) => {
  const port = await freePort()
  const dir = path.join(CLAIMS, String(port))
  const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }))
  fs.writeFileSync(path.join(dir, 'pid'), String(dead))
  t.true(claimPort(port))
  t.is(fs.readFileSync(path.join(dir, 'pid'), 'utf8'), String(process.pid))
  // The parent process (ava's) is alive.
  fs.writeFileSync(path.join(dir, 'pid'), String(process.ppid))
  t.false(claimPort(port))
  fs.writeFileSync(path.join(dir, 'pid'), String(process.pid))
})

test('a server whose port another redis-server answers fails to start, naming both', async (t) => {
  const other = await startRedis()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crr-ports-'))
  const late = new RedisServer({ port: other.port, dir })
  try {
    const err = await t.throwsAsync(() => late.start())
    t.true(err.message.startsWith(`port ${other.port} is answered by another redis-server (pid ${other.pid}), not the one started here`), err.message)
  } finally {
    await late.stop()
    await other.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
