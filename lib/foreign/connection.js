'use strict'
// The connection state of a foreign client, told by its own events: 'up' when it is
// (re-)established, 'down' (with an Error) when it is lost or cannot be made. Listening to
// 'error' also keeps an 'error' on the user's client from crashing the process (SPEC.md
// section 5). One watcher per client, however many stores share it: the user's client gets
// one listener per event, and loses them when the last store detaches.

const { EventEmitter } = require('node:events')
const { asError } = require('./error')

const PROBE_MS = 500
const PROBE_TIMEOUT_MS = 1000
const watchers = new WeakMap()

class Watcher extends EventEmitter {
  constructor(client, adapter) {
    super()
    this.setMaxListeners(0)
    this.client = client
    this.adapter = adapter
    this.connected = adapter.isReady()
    this.users = 0
    this._reportedDown = false
    this._probe = null
    this._listeners = []
    if (typeof client.on !== 'function') return
    for (const event of adapter.up) this._listen(event, () => this.up())
    for (const event of adapter.down) this._listen(event, (err) => this.down(err))
    for (const event of adapter.suspect || []) this._listen(event, () => this.suspect())
  }

  _listen(event, handler) {
    this.client.on(event, handler)
    this._listeners.push([event, handler])
  }

  up() {
    this._stopProbe()
    this._reportedDown = false
    if (this.connected) return
    this.connected = true
    this.emit('up')
  }

  // Once per outage, as the native client: when a connection is lost, or when one that was
  // never made fails for the first time.
  down(err) {
    const report = this.connected || (!this._reportedDown && err instanceof Error)
    this.connected = false
    if (report) {
      this._reportedDown = true
      this.emit('down', err instanceof Error ? asError(err) : new Error('connect-redis-rs: the Redis client disconnected'))
    }
    this.suspect()
  }

  // A cluster client says little when its nodes go away or come back: on a sign of trouble,
  // ask the cluster itself (PING) until it answers again; while it does not, it is down.
  suspect() {
    if (!this.adapter.probe || this._probe || this.users === 0) return
    this._probe = setInterval(() => this._probeOnce(), PROBE_MS)
    this._probe.unref()
    this._probeOnce()
  }

  _probeOnce() {
    // A client the application closed is not coming back.
    if (!this.adapter.isReady()) return this._stopProbe()
    if (this._probing) return
    this._probing = true
    let timer
    const late = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('connect-redis-rs: the Redis cluster does not answer')), PROBE_TIMEOUT_MS)
      timer.unref()
    })
    Promise.race([Promise.resolve().then(() => this.adapter.probe()), late])
      .then(
        () => this.up(),
        (err) => {
          if (this.connected) this.down(err instanceof Error ? err : new Error(String(err)))
        },
      )
      .finally(() => {
        clearTimeout(timer)
        this._probing = false
      })
  }

  _stopProbe() {
    if (this._probe) clearInterval(this._probe)
    this._probe = null
  }

  close() {
    this._stopProbe()
    if (typeof this.client.removeListener !== 'function') return
    for (const [event, handler] of this._listeners.splice(0)) this.client.removeListener(event, handler)
  }
}

/**
 * Watches `client` for one store: `onUp()` / `onDown(err)` on its transitions. Returns
 * `{ connected, detach() }`.
 */
function watch(client, adapter, { onUp, onDown }) {
  let watcher = watchers.get(client)
  if (!watcher) {
    watcher = new Watcher(client, adapter)
    watchers.set(client, watcher)
  }
  watcher.users++
  watcher.on('up', onUp)
  watcher.on('down', onDown)
  let attached = true
  return {
    get connected() {
      return watcher.connected
    },
    detach() {
      if (!attached) return
      attached = false
      watcher.off('up', onUp)
      watcher.off('down', onDown)
      if (--watcher.users === 0) {
        watcher.close()
        watchers.delete(client)
      }
    },
  }
}

module.exports = { watch }
