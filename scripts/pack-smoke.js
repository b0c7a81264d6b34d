'use strict'
// Packs the package as it is published and checks that it works where nothing else is at hand:
//
// - the main package, with the optionalDependencies that `napi prepublish` writes at release
//   (one connect-redis-rs-<platform> package per napi target), and no .node binary in it;
// - this machine's platform package, npm/<platform> (made by `napi create-npm-dirs`) with the
//   binary that `npm run build` wrote copied in, as `napi artifacts` does at release;
//
// then installs both tarballs with express and express-session into an empty folder outside the
// repo, with no NODE_PATH and with every PATH entry that holds cargo removed, checks that the
// binary is loaded from the platform package, runs examples/app.js (with the examples/session-app.js
// it requires) from there, with its own redis-server, and checks a session round trip.
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
const pkg = require('../package.json')
const { platformName, targetName, detectLibc } = require('../lib/load-binding')
const STARTUP_TIMEOUT_MS = 30000
const REQUEST_TIMEOUT_MS = 10000

function run(cmd, args, cwd, env = process.env) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${stderr || err.message}`))
      else resolve(stdout)
    })
  })
}

/** This machine's napi platform name ('linux-x64-gnu', 'darwin-arm64', ...) and its binary. */
function thisPlatform() {
  const name = platformName({ platform: process.platform, arch: process.arch, libc: detectLibc() })
  const binary = `${pkg.napi.binaryName}.${name}.node`
  if (!fs.existsSync(path.join(repo, binary))) {
    throw new Error(`no ${binary} in ${repo}: run \`npm run build\` first`)
  }
  if (!fs.existsSync(path.join(repo, 'npm', name, 'package.json'))) {
    throw new Error(`no npm/${name} package for this platform: run \`npx napi create-npm-dirs\` (is ${name} in napi.targets?)`)
  }
  return { name, binary }
}

/** The environment of the install and of the app: no cargo on PATH, no NODE_PATH. */
function cleanEnv() {
  const env = { ...process.env }
  delete env.NODE_PATH
  delete env.REDIS_URL
  const exe = process.platform === 'win32' ? 'cargo.exe' : 'cargo'
  const dirs = (env.PATH || '').split(path.delimiter).filter((dir) => dir && !fs.existsSync(path.join(dir, exe)))
  env.PATH = dirs.join(path.delimiter)
  return env
}

async function packDir(dir, dest) {
  const out = await run('npm', ['pack', '--json', '--pack-destination', dest], dir)
  const [{ filename, files }] = JSON.parse(out)
  return { tarball: path.join(dest, filename), files: files.map((f) => f.path) }
}

/**
 * The main package as `napi prepublish` leaves it for `npm publish`: the files `npm pack` takes
 * from the repo, and package.json with an optional dependency on every platform package.
 */
async function packMain(dest) {
  const stage = path.join(dest, 'stage-main')
  fs.mkdirSync(stage)
  const [{ files }] = JSON.parse(await run('npm', ['pack', '--dry-run', '--json'], repo))
  for (const { path: file } of files) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true })
    fs.copyFileSync(path.join(repo, file), path.join(stage, file))
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))
  manifest.optionalDependencies = { ...manifest.optionalDependencies }
  for (const triple of manifest.napi.targets) {
    const name = targetName(triple)
    const platformPkg = JSON.parse(fs.readFileSync(path.join(repo, 'npm', name, 'package.json'), 'utf8'))
    if (platformPkg.version !== manifest.version) {
      throw new Error(`npm/${name} is version ${platformPkg.version}, the package ${manifest.version}: run \`npx napi version\``)
    }
    manifest.optionalDependencies[platformPkg.name] = manifest.version
  }
  fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)

  const packed = await packDir(stage, dest)
  const nodeFiles = packed.files.filter((f) => f.endsWith('.node'))
  if (nodeFiles.length > 0) throw new Error(`${path.basename(packed.tarball)} contains ${nodeFiles.join(', ')}`)
  for (const required of ['binding.js', 'lib/binding.js', 'lib/load-binding.js', 'lib/debug.js', 'LICENSE']) {
    if (!packed.files.includes(required)) throw new Error(`${path.basename(packed.tarball)} lacks ${required}`)
  }
  return packed.tarball
}

/** npm/<platform> with the built binary copied in (what `napi artifacts` does at release). */
async function packPlatform(dest, platform) {
  const stage = path.join(dest, `stage-${platform.name}`)
  fs.cpSync(path.join(repo, 'npm', platform.name), stage, { recursive: true })
  fs.copyFileSync(path.join(repo, platform.binary), path.join(stage, platform.binary))
  const packed = await packDir(stage, dest)
  if (!packed.files.includes(platform.binary)) {
    throw new Error(`${path.basename(packed.tarball)} lacks ${platform.binary}`)
  }
  return packed.tarball
}

async function install(dir, tarballs, env) {
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'crr-pack-smoke', private: true }))
  await run('npm', ['install', '--no-audit', '--no-fund', ...tarballs, 'express', 'express-session'], dir, env)
}

/** Checks, in the app folder, that the store loads its binary from the platform package. */
async function assertLoadsFromPlatformPackage(dir, platform, env) {
  const script = `
    const store = require.resolve('connect-redis-rs')
    require('connect-redis-rs').RedisStore
    const binaries = Object.keys(require.cache).filter((f) => f.endsWith('.node'))
    console.log(JSON.stringify({ store, binaries }))`
  const { store, binaries } = JSON.parse(await run(process.execPath, ['-e', script], dir, env))
  const installed = path.join(fs.realpathSync(dir), 'node_modules')
  if (!fs.realpathSync(store).startsWith(installed)) throw new Error(`connect-redis-rs resolved to ${store}, not under ${installed}`)
  const expected = path.join(installed, `${pkg.name}-${platform.name}`, platform.binary)
  if (binaries.length !== 1 || fs.realpathSync(binaries[0]) !== expected) {
    throw new Error(`expected the binary ${expected}, loaded ${JSON.stringify(binaries)}`)
  }
  if (fs.readdirSync(path.join(installed, 'connect-redis-rs')).some((f) => f.endsWith('.node'))) {
    throw new Error('the installed connect-redis-rs has a .node binary of its own')
  }
}

/** Copies the example, the session-app.js it requires and the redis-server launcher it looks for next to itself. */
function copyExample(dir) {
  for (const file of ['app.js', 'session-app.js']) fs.copyFileSync(path.join(repo, 'examples', file), path.join(dir, file))
  fs.copyFileSync(path.join(repo, 'scripts', 'redis-server.js'), path.join(dir, 'redis-server.js'))
}

/** Starts app.js on a free port, without REDIS_URL so that it runs its own redis-server. */
function spawnApp(dir, cleanedEnv) {
  const env = { ...cleanedEnv, PORT: '0' }
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
  const platform = thisPlatform()
  const env = cleanEnv()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crr-pack-smoke-'))
  let child
  let clean = false
  try {
    const tarball = await packMain(dir)
    const platformTarball = await packPlatform(dir, platform)
    const appDir = path.join(dir, 'app')
    fs.mkdirSync(appDir)
    await install(appDir, [tarball, platformTarball], env)
    await assertLoadsFromPlatformPackage(appDir, platform, env)
    copyExample(appDir)

    child = spawnApp(appDir, env)
    const app = await waitForUrl(child)
    await roundTrip(app.url)

    const code = await stopChild(child, 'SIGTERM')
    if (code !== 0) throw new Error(`app.js exited with ${code} on SIGTERM\n${child.output()}`)
    if (app.redisPort && (await portOpen(app.redisPort))) {
      throw new Error(`app.js left its redis-server on port ${app.redisPort} running`)
    }
    clean = true
    console.log(
      `pack-smoke: OK (${path.basename(tarball)} + ${path.basename(platformTarball)}, no cargo on PATH, session round trip at ${app.url})`,
    )
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
