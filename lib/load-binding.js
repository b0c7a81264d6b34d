'use strict'
// Loads the native addon through the loader napi-rs generates (../binding.js) and, when that
// finds no binary for this machine, throws one error that says which platform this is, which
// package would have carried the binary, and how to build it from source instead.
//
// lib/binding.js calls loadBinding() once; the tests call it with a simulated platform and
// loader. `platform`, `arch` and `libc` only shape the message: the generated loader itself
// always looks at the running process.

const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const LOADER_FILE = path.join(ROOT, 'binding.js')
const pkg = require('../package.json')

const PACKAGE = pkg.name
const VERSION = pkg.version
const BINARY = (pkg.napi && pkg.napi.binaryName) || PACKAGE
const REPOSITORY = 'https://github.com/connect-redis-rs/connect-redis-rs'

const CPU = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm', riscv64gc: 'riscv64' }

/**
 * napi-rs's name for a Rust target triple, the suffix of its npm package and .node file:
 * 'x86_64-unknown-linux-gnu' -> 'linux-x64-gnu', 'aarch64-apple-darwin' -> 'darwin-arm64',
 * 'x86_64-pc-windows-msvc' -> 'win32-x64-msvc'.
 */
function targetName(triple) {
  const parts = triple.split('-')
  const arch = CPU[parts[0]] || parts[0]
  if (parts.includes('darwin')) return `darwin-${arch}`
  if (parts.includes('windows')) return `win32-${arch}-${parts[parts.length - 1]}`
  if (parts.includes('linux')) return `linux-${arch}-${parts[parts.length - 1]}`
  if (parts.includes('freebsd')) return `freebsd-${arch}`
  return parts.slice(1).concat(arch).join('-')
}

/** The targets this version publishes a binary package for (package.json `napi.targets`). */
const PUBLISHED = ((pkg.napi && pkg.napi.targets) || []).map(targetName)

/** 'glibc' or 'musl' (npm's `libc` names), read from the process report; null off Linux. */
function detectLibc(platform = process.platform) {
  if (platform !== 'linux') return null
  try {
    process.report.excludeNetwork = true
    const report = process.report.getReport()
    if (report.header && report.header.glibcVersionRuntime) return 'glibc'
    const musl = (file) => file.includes('libc.musl-') || file.includes('ld-musl-')
    if (Array.isArray(report.sharedObjects) && report.sharedObjects.some(musl)) return 'musl'
  } catch {}
  return 'glibc'
}

/** The napi-rs name of the binary that fits a machine: 'linux-x64-gnu', 'darwin-arm64', ... */
function platformName({ platform, arch, libc }) {
  if (platform === 'linux') {
    if (arch === 'arm') return 'linux-arm-gnueabihf'
    return `linux-${arch}-${libc === 'musl' ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

function describeMachine({ platform, arch, libc }) {
  return platform === 'linux' ? `${platform} ${arch} (${libc})` : `${platform} ${arch}`
}

/** The messages of an error and of its `cause` chain, outermost first. */
function messages(err) {
  const out = []
  for (let e = err, depth = 0; e && depth < 32; e = e.cause, depth++) {
    out.push(e && typeof e.message === 'string' ? e.message : String(e))
  }
  return out
}

const NOT_FOUND = /^Cannot find module|^Unsupported (OS|architecture)|WASI binding|^Cannot find native binding|^Failed to load native binding/

function buildFromSource(name) {
  const file = `${BINARY}.${name}.node`
  if (fs.existsSync(path.join(ROOT, 'Cargo.toml'))) {
    return `Or build it from source: install Rust (https://rustup.rs), then run \`npm run build\` in ${ROOT}; it writes ${file} there.`
  }
  return (
    `Or build it from source: install Rust (https://rustup.rs), clone ${REPOSITORY} at v${VERSION}, ` +
    `run \`npm install && npm run build\` there, and copy the ${file} it writes into ${ROOT} ` +
    `(or point NAPI_RS_NATIVE_LIBRARY_PATH at it).`
  )
}

function bindingError(cause, machine, loaderFile) {
  const name = platformName(machine)
  const packageName = `${PACKAGE}-${name}`
  const where = describeMachine(machine)
  const published = PUBLISHED.includes(name)
  let lines
  if (!fs.existsSync(loaderFile)) {
    lines = [
      `${PACKAGE}: the native addon is not built (${loaderFile} is missing).`,
      `Install Rust (https://rustup.rs) and run \`npm run build\` in ${ROOT}.`,
    ]
  } else {
    const loadFailure = messages(cause).find((m) => !NOT_FOUND.test(m))
    if (loadFailure) {
      lines = [
        `${PACKAGE}: the native binary for ${where} was found but could not be loaded: ${loadFailure}`,
        published ? `Reinstall ${packageName}@${VERSION} (an optional dependency of ${PACKAGE}).` : null,
        buildFromSource(name),
      ].filter(Boolean)
    } else if (published) {
      lines = [
        `${PACKAGE}: no native binary for ${where}.`,
        `It comes in the package ${packageName}@${VERSION}, an optional dependency of ${PACKAGE}, which is not installed ` +
          `(optional dependencies left out with --omit=optional / --no-optional, or a lockfile made on another platform).`,
        `Reinstall with optional dependencies, or add it: npm install ${packageName}@${VERSION}`,
        buildFromSource(name),
      ]
    } else {
      lines = [
        `${PACKAGE}: no native binary for ${where}: there is no ${packageName} package.`,
        `Prebuilt binaries exist for ${PUBLISHED.join(', ')}.`,
        buildFromSource(name),
      ]
    }
  }
  const message = lines.join('\n')
  const error = new Error(message)
  error.code = 'ERR_NATIVE_BINDING'
  error.platform = machine.platform
  error.arch = machine.arch
  error.libc = machine.libc
  error.package = packageName
  error.cause = cause
  return error
}

/**
 * Returns the native addon, or throws an Error with code 'ERR_NATIVE_BINDING' that names the
 * machine, the package that would have provided the binary and how to build it.
 */
function loadBinding(options = {}) {
  const {
    platform = process.platform,
    arch = process.arch,
    loaderFile = LOADER_FILE,
    loader = () => require(loaderFile),
  } = options
  try {
    return loader()
  } catch (err) {
    const libc = platform === 'linux' ? options.libc || detectLibc(platform) : null
    throw bindingError(err, { platform, arch, libc }, loaderFile)
  }
}

module.exports = { loadBinding, targetName, platformName, detectLibc, PUBLISHED }
