'use strict'
// Packs the repo, installs the tarball into an empty folder with express and express-session,
// runs examples/app.js from there (with its own redis-server) and checks a session round trip.
//
//   npm run build && node scripts/pack-smoke.js
//
// Exits 0 on success, 1 with a message on failure. Cleans up its folder and processes either way.

const { spawn, execFile } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const repo = path.resolve(__dirname, '..')
const STARTUP_TIMEOUT_MS = 30000
const REQUEST_TIMEOUT_MS = 10000

function run(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stderr || err.message}`))
      else resolve(stdout)
    })
  })
}

function assertBinaryBuilt() {
  const binaries = fs.readdirSync(repo).filter((name) => /^connect-redis-rs\..+\.node$/.test(name))
  if (binaries.length === 0) {
    throw new Error(`no connect-redis-rs.<platform>.node in ${repo}: run \`npm run build\` first`)
  }
}

async function pack(dest) {
  const out = await run('npm', ['pack', '--json', '--pack-destination', dest], repo)
  const [{ filename, files }] = JSON.parse(out)
  if (!files.some((f) => f.path.endsWith('.node'))) throw new Error(`${filename} contains no .node binary`)
  return path.join(dest, filename)
}

async function install(dir, tarball) {
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'crr-pack-smoke', private: true }))
  await run('npm', ['install', '--no-audit', '--no-fund', tarball, 'express', 'express-session'], dir)
}

/** Copies the example and the redis-server launcher it looks for next to itself. */
function copyExample(dir) {
  fs.copyFileSync(path.join(repo, 'examples', 'app.js'), path.join(dir, 'app.js'))
  fs.copyFileSync(path.join(repo, 'scripts', 'redis-server.js'), path.join(dir, 'redis-server.js'))
}

/** Starts app.js on a free port, without REDIS_URL so that it runs its own redis-server. */
function spawnApp(dir) {
  const env = { ...process.env, PORT: '0' }
  delete env.REDIS_URL
  const child = spawn(process.execPath, ['app.js'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk) => {
    output += chunk
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  child.output = () => output
  return child
}

/** Resolves with the URL and redis-server port app.js printed. */
function waitForUrl(child) {
  return new Promise((resolve, reject) => {
    const fail = (message) => {
      clearTimeout(timer)
      reject(new Error(`${message}\n--- app.js output ---\n${child.output()}`))
    }
    const timer = setTimeout(() => fail(`app.js did not print its URL within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS)
    child.once('exit', (code, signal) => fail(`app.js exited early (code ${code}, signal ${signal})`))
    child.stdout.on('data', () => {
      const url = /listening on (http:\/\/\S+)/.exec(child.output())
      if (!url) return
      clearTimeout(timer)
      const redis = /redis-server on port (\d+)/.exec(child.output())
      resolve({ url: url[1].replace('localhost', '127.0.0.1'), redisPort: redis && Number(redis[1]) })
    })
  })
}

function redisPidFrom(output) {
  const match = /redis-server on port \d+ \(pid (\d+)\)/.exec(output)
  return match && Number(match[1])
}

async function get(url, cookie) {
  const response = await fetch(url, {
    headers: cookie ? { cookie } : {},
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  const body = await response.text()
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${body}`)
  return { body: JSON.parse(body), setCookie: response.headers.getSetCookie() }
}

async function roundTrip(base) {
  const first = await get(`${base}/`)
  const cookie = first.setCookie.map((line) => line.split(';')[0]).join('; ')
  if (!cookie) throw new Error('the first response set no cookie')
  const second = await get(`${base}/`, cookie)
  if (first.body.views !== 1 || second.body.views !== 2) {
    throw new Error(`expected views 1 then 2, got ${first.body.views} then ${second.body.views}`)
  }
}

function stopChild(child, signal, ms = 10000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
    child.kill(signal)
  })
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

function killQuietly(pid) {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

async function main() {
  assertBinaryBuilt()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crr-pack-smoke-'))
  let child
  let clean = false
  try {
    const tarball = await pack(dir)
    const appDir = path.join(dir, 'app')
    fs.mkdirSync(appDir)
    await install(appDir, tarball)
    copyExample(appDir)

    child = spawnApp(appDir)
    const app = await waitForUrl(child)
    await roundTrip(app.url)

    const code = await stopChild(child, 'SIGTERM')
    if (code !== 0) throw new Error(`app.js exited with ${code} on SIGTERM\n${child.output()}`)
    if (app.redisPort && (await portOpen(app.redisPort))) {
      throw new Error(`app.js left its redis-server on port ${app.redisPort} running`)
    }
    clean = true
    console.log(`pack-smoke: OK (${path.basename(tarball)}, session round trip at ${app.url})`)
  } finally {
    if (child && !clean) {
      // SIGTERM lets app.js stop its redis-server; stopChild escalates to SIGKILL if it hangs.
      const code = await stopChild(child, 'SIGTERM', 5000)
      // An app.js that was killed or crashed cannot have stopped its redis-server.
      const redisPid = redisPidFrom(child.output())
      if (code !== 0 && redisPid) killQuietly(redisPid)
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(`pack-smoke: FAILED: ${err.message}`)
  process.exitCode = 1
})
