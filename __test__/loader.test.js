'use strict'
// lib/binding.js: the addon loads on this machine, and on a machine without a binary the error
// names the platform, the package that would have carried it and the way to build it. Machines
// are simulated twice: with loadBinding()'s options and a loader that fails, and for real in a
// child process whose process.platform / process.arch are overridden before the generated
// loader (../binding.js) runs.

const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { loadBinding, targetName, platformName, PUBLISHED } = require('../lib/load-binding')

const root = path.join(__dirname, '..')
const pkg = require('../package.json')

/** What the generated loader throws when it finds nothing (a "Cannot find module" chain). */
function notFound(name) {
  return () => {
    const err = new Error('Cannot find native binding. npm has a bug related to optional dependencies')
    err.cause = new Error(`Cannot find module 'connect-redis-rs-${name}'`)
    err.cause.cause = new Error(`Cannot find module './connect-redis-rs.${name}.node'`)
    throw err
  }
}

/** Requires lib/binding.js in a child node whose platform and arch are overridden. */
function loadAs(platform, arch) {
  const script = `
    Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} })
    Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })
    try {
      require(${JSON.stringify(path.join(root, 'lib', 'binding.js'))})
      console.log(JSON.stringify({ loaded: true }))
    } catch (err) {
      console.log(JSON.stringify({ code: err.code, package: err.package, message: err.message }))
    }`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 }))
}

test('the addon loads on this machine, through lib/binding.js and loadBinding()', (t) => {
  const binding = require('../lib/binding')
  t.is(binding, require('../binding.js'))
  t.is(typeof binding.NativeClient, 'function')
  t.is(typeof binding.defaults().ttl, 'number')
  t.is(loadBinding(), binding)
})

test('an unsupported platform: the error names the machine, the missing package and the source build', (t) => {
  const err = t.throws(() => loadBinding({ platform: 'freebsd', arch: 'x64', loader: notFound('freebsd-x64') }))
  t.is(err.code, 'ERR_NATIVE_BINDING')
  t.is(err.package, 'connect-redis-rs-freebsd-x64')
  t.regex(err.message, /^connect-redis-rs: no native binary for freebsd x64: there is no connect-redis-rs-freebsd-x64 package\./)
  t.regex(err.message, /Prebuilt binaries exist for linux-x64-gnu, .*win32-arm64-msvc\./)
  t.regex(err.message, /install Rust .*`npm run build`/)
  t.regex(err.message, /connect-redis-rs\.freebsd-x64\.node/)
  t.truthy(err.cause, 'the loader error is kept as the cause')
})

test('a published platform whose package is missing: the error names the package to install', (t) => {
  const err = t.throws(() =>
    loadBinding({ platform: 'linux', arch: 'arm64', libc: 'musl', loader: notFound('linux-arm64-musl') }),
  )
  t.is(err.package, 'connect-redis-rs-linux-arm64-musl')
  t.is(err.libc, 'musl')
  t.regex(err.message, /^connect-redis-rs: no native binary for linux arm64 \(musl\)\./)
  t.regex(err.message, new RegExp(`npm install connect-redis-rs-linux-arm64-musl@${pkg.version.replace(/\./g, '\\.')}`))
  t.regex(err.message, /optional dependenc/)
  t.regex(err.message, /`npm run build`/)

  const win = t.throws(() => loadBinding({ platform: 'win32', arch: 'arm64', loader: notFound('win32-arm64-msvc') }))
  t.is(win.package, 'connect-redis-rs-win32-arm64-msvc')
  t.regex(win.message, /^connect-redis-rs: no native binary for win32 arm64\./)
})

test('a binary that is there but does not load: the error quotes why', (t) => {
  const loader = () => {
    const err = new Error('Cannot find native binding.')
    err.cause = new Error('Error relocating connect-redis-rs.linux-x64-musl.node: __res_init: symbol not found')
    throw err
  }
  const err = t.throws(() => loadBinding({ platform: 'linux', arch: 'x64', libc: 'musl', loader }))
  t.regex(err.message, /linux x64 \(musl\) was found but could not be loaded: Error relocating/)
  t.regex(err.message, /Reinstall connect-redis-rs-linux-x64-musl@/)
})

test('no generated loader at all (a checkout that was never built): the error says to build', (t) => {
  const err = t.throws(() => loadBinding({ loaderFile: path.join(root, 'no-such-dir', 'binding.js') }))
  t.is(err.code, 'ERR_NATIVE_BINDING')
  t.regex(err.message, /the native addon is not built/)
  t.regex(err.message, /`npm run build`/)
})

test('for real: the generated loader on a simulated linux arm64 and freebsd, aix', (t) => {
  const arm = loadAs('linux', 'arm64')
  t.is(arm.code, 'ERR_NATIVE_BINDING', JSON.stringify(arm))
  t.is(arm.package, 'connect-redis-rs-linux-arm64-gnu')
  t.regex(arm.message, /no native binary for linux arm64 \(glibc\)\.\nIt comes in the package connect-redis-rs-linux-arm64-gnu@/)

  const bsd = loadAs('freebsd', 'x64')
  t.is(bsd.package, 'connect-redis-rs-freebsd-x64')
  t.regex(bsd.message, /there is no connect-redis-rs-freebsd-x64 package/)

  const aix = loadAs('aix', 'ppc64')
  t.regex(aix.message, /no native binary for aix ppc64: there is no connect-redis-rs-aix-ppc64 package/)
})

test('the package names match the npm/ folders `napi create-npm-dirs` generates', (t) => {
  t.deepEqual(PUBLISHED, [
    'linux-x64-gnu',
    'linux-arm64-gnu',
    'linux-x64-musl',
    'linux-arm64-musl',
    'darwin-x64',
    'darwin-arm64',
    'win32-x64-msvc',
    'win32-arm64-msvc',
  ])
  for (const name of PUBLISHED) {
    const platformPkg = JSON.parse(fs.readFileSync(path.join(root, 'npm', name, 'package.json'), 'utf8'))
    t.is(platformPkg.name, `${pkg.name}-${name}`)
    t.is(platformPkg.version, pkg.version, `npm/${name} has the root package's version`)
  }
  t.is(targetName('armv7-unknown-linux-gnueabihf'), 'linux-arm-gnueabihf')
  t.is(platformName({ platform: 'linux', arch: 'x64', libc: 'glibc' }), 'linux-x64-gnu')
  t.is(platformName({ platform: 'darwin', arch: 'arm64' }), 'darwin-arm64')
})
