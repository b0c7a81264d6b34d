'use strict'
// Child processes: the parent starts each measurement in a fresh Node process pinned to a core,
// passes the job as JSON on argv, answers its questions over IPC and collects one result.

const { spawn, execFileSync } = require('node:child_process')

/** Pins every thread of a running process to one core (or a list such as '0,1'). */
function pin(pid, cpus) {
  execFileSync('taskset', ['-a', '-c', '-p', String(cpus), String(pid)], { stdio: 'ignore' })
}

/**
 * Runs `node file job` on core `cpu` (all of its threads: taskset before exec) and resolves with
 * the result it sends. `onAsk(what, data)` answers the child's `ask` calls (e.g. SLOWLOG).
 */
function runChild(file, job, { cpu, onAsk, timeoutMs = 120000, nodeArgs = ['--expose-gc'] } = {}) {
  return new Promise((resolve, reject) => {
    const args = [...nodeArgs, file, JSON.stringify(job)]
    const child =
      cpu === undefined
        ? spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        : spawn('taskset', ['-c', String(cpu), process.execPath, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let result
    let failure
    const timer = setTimeout(() => {
      failure = new Error(`${file} timed out after ${timeoutMs} ms`)
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {}
    }, timeoutMs)
    child.on('message', async (msg) => {
      if (msg.type === 'result') result = msg.result
      else if (msg.type === 'error') failure = Object.assign(new Error(msg.message), { stack: msg.stack })
      else if (msg.type === 'ask') {
        try {
          const value = onAsk ? await onAsk(msg.what, msg.data, child) : undefined
          child.send({ type: 'answer', id: msg.id, value })
        } catch (err) {
          child.send({ type: 'answer', id: msg.id, error: err.message })
        }
      }
    })
    child.on('error', (err) => {
      failure = failure || err
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (failure) return reject(failure)
      if (code !== 0 || result === undefined) {
        return reject(new Error(`${file} exited with ${signal || code} and ${result === undefined ? 'no' : 'a'} result`))
      }
      resolve(result)
    })
  })
}

/** The child side: runs `main(job, ask)` and sends its result (or error) to the parent, then exits. */
function childMain(main) {
  const job = JSON.parse(process.argv[2])
  let nextId = 1
  const waiting = new Map()
  process.on('message', (msg) => {
    if (msg.type !== 'answer') return
    const { resolve, reject } = waiting.get(msg.id)
    waiting.delete(msg.id)
    if (msg.error) reject(new Error(msg.error))
    else resolve(msg.value)
  })
  const ask = (what, data) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      waiting.set(id, { resolve, reject })
      process.send({ type: 'ask', id, what, data })
    })
  const send = (msg) => new Promise((resolve) => process.send(msg, () => resolve()))
  Promise.resolve()
    .then(() => main(job, ask))
    .then(
      (result) => send({ type: 'result', result }),
      (err) => send({ type: 'error', message: String((err && err.message) || err), stack: err && err.stack }),
    )
    .then(() => process.exit(0))
}

module.exports = { pin, runChild, childMain }
