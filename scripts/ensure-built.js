'use strict'
// Gets a checkout ready to run: installs the npm packages when node_modules is missing or older
// than package-lock.json, and builds the addon in release mode only when a Rust source, the
// manifest or the lock file is newer than the built binary (so nothing is rebuilt needlessly).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const inputs = ['Cargo.toml', 'Cargo.lock', 'build.rs', 'package.json']

function newestInput() {
  let newest = 0
  const visit = (file) => {
    const stat = fs.statSync(file)
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(file)) visit(path.join(file, entry))
    } else {
      newest = Math.max(newest, stat.mtimeMs)
    }
  }
  visit(path.join(root, 'src'))
  for (const file of inputs) {
    if (fs.existsSync(path.join(root, file))) visit(path.join(root, file))
  }
  return newest
}

function builtAt() {
  const outputs = ['binding.js', 'binding.d.ts']
  const binaries = fs.readdirSync(root).filter((f) => /^connect-redis-rs\..*\.node$/.test(f))
  if (binaries.length === 0 || !outputs.every((f) => fs.existsSync(path.join(root, f)))) return 0
  return Math.min(...[...binaries, ...outputs].map((f) => fs.statSync(path.join(root, f)).mtimeMs))
}

function installIfNeeded() {
  const marker = path.join(root, 'node_modules', '.package-lock.json')
  const lock = path.join(root, 'package-lock.json')
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs) return
  console.log('connect-redis-rs: installing npm packages (npm ci)')
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
}

installIfNeeded()
if (builtAt() > newestInput() && !process.argv.includes('--force')) {
  console.log('connect-redis-rs: native addon is up to date')
} else {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
}
