'use strict'
// Starts a throwaway Redis Cluster from redis-server processes on free ports (no Docker), for
// tests, examples and benchmarks:
//
//   const { startCluster } = require('../scripts/redis-cluster')
//   const c = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
//   c.seeds                 // [{ host, port }] of the primaries at creation
//   c.nodes                 // [{ host, port, role, pid, server }]; role refreshed by waitStable()/refresh()
//   await c.cli(port, 'CLUSTER', 'INFO')
//   await c.kill(port); await c.waitFailover(port); await c.start(port)
//   await c.close()
//
// Options: { primaries = 3, replicasPerPrimary = 1, args: [extra redis-server args],
//   password, tls: certs from scripts/tls-certs.js (the nodes then listen with TLS only, with
//   --tls-cluster yes --tls-replication yes), tlsAuthClients: 'yes' | 'no' | 'optional' (default 'no'),
//   nodeTimeout: cluster-node-timeout in ms (default 2000, so a failover takes ~3-5 s) }
//
// Each node has its own temp dir (nodes.conf, log) and its own cluster bus port (cluster-port,
// Redis >= 7), keeps nothing on disk, and is stopped by pid. close() removes the temp dirs.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { RedisServer, redisCli, freePort, sleep } = require('./redis-server')

const liveDirs = new Set()
process.on('exit', () => {
  for (const dir of liveDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true })
    } catch {}
  }
})

/** A temp dir removed when close() is not reached (the process exits first). */
function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  liveDirs.add(dir)
  return dir
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true })
  liveDirs.delete(dir)
}

// ---- CRC16 (XMODEM) key slot, as Redis computes it (hash tags included) ----

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[i] = crc
  }
  return table
})()

function crc16(buf) {
  let crc = 0
  for (const byte of buf) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]
  return crc
}

/** The cluster slot (0..16383) of a key (string or Buffer), honouring `{hash tags}`. */
function keySlot(key) {
  let buf = Buffer.isBuffer(key) ? key : Buffer.from(String(key))
  const open = buf.indexOf(0x7b) // '{'
  if (open !== -1) {
    const close = buf.indexOf(0x7d, open + 1) // '}'
    if (close !== -1 && close > open + 1) buf = buf.subarray(open + 1, close)
  }
  return crc16(buf) % 16384
}

// ---- one redis-server process ----

function tlsCliArgs(tls) {
  if (!tls) return []
  const args = ['--tls', '--cacert', tls.caFile]
  if (tls.clientCertFile) args.push('--cert', tls.clientCertFile, '--key', tls.clientKeyFile)
  return args
}

/** redis-cli with a longer default timeout (cluster commands such as --cluster create are slow). */
function runCli(args, { timeout = 15000 } = {}) {
  return redisCli(args, { timeout })
}

/**
 * A RedisServer (scripts/redis-server.js) that may listen with TLS only and authenticates its
 * replication link too; the dir, and so nodes.conf, survives a stop. Compatible with
 * __test__/helpers/redis.js monitor(): host, port, password, cliArgs(), cli().
 */
class RedisNode extends RedisServer {
  constructor({ port, dir, args = [], password, tls, tlsAuthClients = 'no', name = 'redis' }) {
    super({ port, dir, args, password, logFile: path.join(dir, `${name}.log`), cliTimeout: 15000 })
    Object.assign(this, { tls, tlsAuthClients, name })
    if (tls) this.url = this.url.replace(/^redis:/, 'rediss:')
  }

  listenArgs() {
    if (!this.tls) return super.listenArgs()
    return [
      '--port', '0',
      '--tls-port', String(this.port),
      '--tls-cert-file', this.tls.serverCertFile,
      '--tls-key-file', this.tls.serverKeyFile,
      '--tls-ca-cert-file', this.tls.caFile,
      '--tls-auth-clients', this.tlsAuthClients,
    ]
  }

  authArgs() {
    return this.password ? ['--requirepass', this.password, '--masterauth', this.password] : []
  }

  cliTlsArgs() {
    return tlsCliArgs(this.tls)
  }

  async close() {
    await this.stop()
    removeDir(this.dir)
  }
}

/** Parses `CLUSTER NODES` output. */
function parseClusterNodes(text) {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, addr, flags, master, , , , link, ...slots] = line.split(' ')
      const m = /^([^:]*):(\d+)@(\d+)/.exec(addr)
      const flagList = flags.split(',')
      return {
        id,
        host: m ? m[1] : '',
        port: m ? Number(m[2]) : 0,
        flags: flagList,
        myself: flagList.includes('myself'),
        role: flagList.includes('master') ? 'primary' : flagList.includes('slave') ? 'replica' : 'unknown',
        failed: flagList.includes('fail') || flagList.includes('fail?') || flagList.includes('noaddr'),
        master: master === '-' ? null : master,
        link,
        slots,
      }
    })
}

function parseInfo(text) {
  const out = {}
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim()
  }
  return out
}

class Cluster {
  constructor({ dir, nodes, password, tls }) {
    this.dir = dir
    this.servers = nodes // RedisNode[]
    this.password = password
    this.tls = tls
    this.nodes = nodes.map((server) => ({
      host: server.host,
      port: server.port,
      role: 'unknown',
      get pid() {
        return server.pid
      },
      server,
    }))
    this.initialPrimaries = []
  }

  /** Seed nodes: the primaries at creation time ([{ host, port }]). */
  get seeds() {
    return this.initialPrimaries.map(({ host, port }) => ({ host, port }))
  }

  /** Seed URLs (redis:// or rediss://), e.g. for the `cluster: ['redis://…']` option. */
  get seedUrls() {
    const scheme = this.tls ? 'rediss' : 'redis'
    return this.seeds.map(({ host, port }) => `${scheme}://${host}:${port}`)
  }

  node(port) {
    const n = this.nodes.find((x) => x.port === Number(port))
    if (!n) throw new Error(`no cluster node on port ${port}`)
    return n
  }

  server(port) {
    return this.node(port).server
  }

  /** redis-cli against one node. */
  cli(port, ...args) {
    return this.server(port).cli(...args)
  }

  /** redis-cli with `-c` (follows MOVED/ASK) against any running node: for key commands. */
  async cliRouted(...args) {
    const s = this.servers.find((x) => x.running)
    return runCli(['-c', ...s.cliArgs(args)])
  }

  /** redis-cli --cluster <subcommand> … against a running node (e.g. reshard, check). */
  async clusterCli(subcommand, ...args) {
    const s = this.servers.find((x) => x.running)
    const auth = this.password ? ['--no-auth-warning', '-a', this.password] : []
    return runCli([...tlsCliArgs(this.tls), ...auth, '--cluster', subcommand, `${s.host}:${s.port}`, ...args], {
      timeout: 120000,
    })
  }

  /** Kills one node with SIGKILL (or `sig`), keeping its dir so start() rejoins the cluster. */
  async kill(port, sig = 'SIGKILL') {
    await this.server(port).stop(sig)
  }

  /** Restarts a stopped node on its port with its nodes.conf (it rejoins, as a replica if it was failed over). */
  async start(port) {
    await this.server(port).start()
  }

  /** The cluster's view from one running node: CLUSTER NODES parsed. */
  async view(port) {
    const from = port ? this.server(port) : this.servers.find((x) => x.running)
    return parseClusterNodes(await from.cli('CLUSTER', 'NODES'))
  }

  /** Updates each node's role from CLUSTER NODES of a running node; resolves with the nodes. */
  async refresh() {
    const view = await this.view()
    for (const n of this.nodes) {
      const v = view.find((x) => x.port === n.port)
      if (v) {
        n.role = v.role
        n.id = v.id
        n.primaryId = v.master
      }
    }
    for (const n of this.nodes) {
      const p = n.primaryId && this.nodes.find((x) => x.id === n.primaryId)
      n.primaryPort = p ? p.port : undefined
    }
    return this.nodes
  }

  /** The running primaries, refreshed ([{ host, port, role, pid, server, id }]). */
  async primaries() {
    await this.refresh()
    return this.nodes.filter((n) => n.role === 'primary' && n.server.running)
  }

  async replicas() {
    await this.refresh()
    return this.nodes.filter((n) => n.role === 'replica' && n.server.running)
  }

  /** Port of the running primary that owns `slot` according to CLUSTER SHARDS/NODES. */
  async primaryForSlot(slot) {
    const view = await this.view()
    for (const v of view) {
      if (v.role !== 'primary' || v.failed) continue
      for (const range of v.slots) {
        if (range.startsWith('[')) continue // migrating/importing markers
        const [a, b = a] = range.split('-').map(Number)
        if (slot >= a && slot <= b) return v.port
      }
    }
    return undefined
  }

  primaryForKey(key) {
    return this.primaryForSlot(keySlot(key))
  }

  /**
   * Waits until every running node reports cluster_state:ok with all 16384 slots ok, all running
   * nodes agree on which node serves each slot, every running replica's link to its primary is
   * up, and no running node is flagged failed. Refreshes roles.
   */
  async waitStable({ timeout = 60000 } = {}) {
    const deadline = Date.now() + timeout
    let last = ''
    for (;;) {
      try {
        last = await this.stableReason()
        if (!last) {
          await this.refresh()
          return this
        }
      } catch (err) {
        last = err.message
      }
      if (Date.now() > deadline) throw new Error(`cluster not stable after ${timeout} ms: ${last}`)
      await sleep(100)
    }
  }

  /** '' when stable, otherwise why not. */
  async stableReason() {
    const running = this.servers.filter((s) => s.running)
    let reference
    for (const s of running) {
      const info = parseInfo(await s.cli('CLUSTER', 'INFO'))
      if (info.cluster_state !== 'ok') return `${s.port}: cluster_state ${info.cluster_state}`
      if (info.cluster_slots_ok !== '16384') return `${s.port}: cluster_slots_ok ${info.cluster_slots_ok}`
      const view = parseClusterNodes(await s.cli('CLUSTER', 'NODES'))
      for (const v of view) {
        const proc = this.servers.find((x) => x.port === v.port)
        if (proc && proc.running && v.failed) return `${s.port} sees ${v.port} as ${v.flags.join(',')}`
        if (v.flags.includes('handshake')) return `${s.port}: handshake with ${v.port}`
      }
      const owners = view
        .filter((v) => v.role === 'primary' && v.slots.length > 0)
        .map((v) => `${v.port}:${v.slots.filter((x) => !x.startsWith('[')).join(',')}`)
        .sort()
        .join(' ')
      if (reference === undefined) reference = owners
      else if (reference !== owners) return `nodes disagree on slots: ${reference} vs ${owners}`
      const me = view.find((v) => v.myself)
      if (me && me.role === 'replica') {
        const primary = view.find((v) => v.id === me.master)
        const primaryProc = primary && this.servers.find((x) => x.port === primary.port)
        if (primaryProc && primaryProc.running) {
          const repl = parseInfo(await s.cli('INFO', 'replication'))
          if (repl.master_link_status !== 'up') return `${s.port}: replica link ${repl.master_link_status}`
          if (repl.master_sync_in_progress === '1') return `${s.port}: sync in progress`
        }
      }
    }
    return ''
  }

  /**
   * After kill(port) of a primary: waits until one of its replicas is a primary that serves its
   * slots and the cluster is ok again. Resolves with the new primary's port.
   */
  async waitFailover(oldPort, { timeout = 60000 } = {}) {
    const old = this.node(oldPort)
    const oldId = old.id
    const deadline = Date.now() + timeout
    for (;;) {
      try {
        const view = await this.view()
        const promoted = view.find(
          (v) => v.role === 'primary' && v.port !== old.port && v.slots.length > 0 && this.nodes.some((n) => n.primaryId === oldId && n.port === v.port),
        )
        if (promoted && !(await this.stableReason())) {
          await this.refresh()
          return promoted.port
        }
      } catch {}
      if (Date.now() > deadline) throw new Error(`no replica of ${oldPort} took over within ${timeout} ms`)
      await sleep(100)
    }
  }

  /**
   * Right after creation, replicas report replication offset 0 and CLUSTER SLOTS leaves them out
   * until their primary has written something. One write per primary (SET, then DEL of a key in
   * its slots) and a wait until every node lists every replica in CLUSTER SLOTS.
   */
  async warmReplicas({ timeout = 30000 } = {}) {
    const primaries = this.nodes.filter((n) => n.role === 'primary')
    for (const p of primaries) {
      const view = (await this.view(p.port)).find((v) => v.myself)
      const ranges = view.slots.filter((x) => !x.startsWith('[')).map((r) => r.split('-').map(Number))
      let key
      for (let i = 0; !key; i++) {
        const slot = keySlot(`crr-warmup-${i}`)
        if (ranges.some(([a, b = a]) => slot >= a && slot <= b)) key = `crr-warmup-${i}`
      }
      await p.server.cli('SET', key, '1')
      await p.server.cli('DEL', key)
    }
    const expected = this.nodes.length
    const deadline = Date.now() + timeout
    for (;;) {
      let ok = true
      for (const s of this.servers) {
        const ids = (await s.cli('CLUSTER', 'SLOTS')).split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l.trim()))
        if (ids.length < expected) ok = false
      }
      if (ok) return
      if (Date.now() > deadline) throw new Error('replicas did not appear in CLUSTER SLOTS')
      await sleep(100)
    }
  }

  async close() {
    await Promise.all(this.servers.map((s) => s.stop()))
    removeDir(this.dir)
  }
}

/**
 * Starts `primaries * (1 + replicasPerPrimary)` cluster-enabled redis-servers, joins them with
 * `redis-cli --cluster create … --cluster-replicas N --cluster-yes` and waits until the cluster
 * is stable (all slots covered, replicas synced).
 */
async function startCluster(options = {}) {
  const {
    primaries = 3,
    replicasPerPrimary = 1,
    args = [],
    password,
    tls,
    tlsAuthClients = 'no',
    nodeTimeout = 2000,
  } = options
  if (primaries < 3) throw new Error('redis-cli --cluster create needs at least 3 primaries')
  const count = primaries * (1 + replicasPerPrimary)
  const dir = tempDir('crr-cluster-')
  const nodes = []
  try {
    for (let i = 0; i < count; i++) {
      const port = await freePort()
      const busPort = await freePort()
      const nodeDir = path.join(dir, String(port))
      fs.mkdirSync(nodeDir)
      nodes.push(
        new RedisNode({
          port,
          dir: nodeDir,
          password,
          tls,
          tlsAuthClients,
          name: `redis-${port}`,
          args: [
            '--cluster-enabled', 'yes',
            '--cluster-config-file', path.join(nodeDir, `nodes-${port}.conf`),
            '--cluster-port', String(busPort),
            '--cluster-node-timeout', String(nodeTimeout),
            // A replica may always take over, however long its link was down.
            '--cluster-replica-validity-factor', '0',
            ...(tls ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : []),
            ...args,
          ],
        }),
      )
    }
    await Promise.all(nodes.map((n) => n.start()))
    const cluster = new Cluster({ dir, nodes, password, tls })
    const auth = password ? ['--no-auth-warning', '-a', password] : []
    await runCli(
      [
        ...tlsCliArgs(tls),
        ...auth,
        '--cluster', 'create',
        ...nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas', String(replicasPerPrimary),
        '--cluster-yes',
      ],
      { timeout: 60000 },
    )
    await cluster.waitStable()
    cluster.initialPrimaries = cluster.nodes.filter((n) => n.role === 'primary')
    await cluster.warmReplicas()
    if (cluster.initialPrimaries.length !== primaries) {
      throw new Error(`expected ${primaries} primaries, got ${cluster.initialPrimaries.length}`)
    }
    return cluster
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()))
    removeDir(dir)
    throw err
  }
}

module.exports = {
  startCluster,
  keySlot,
  crc16,
  RedisNode,
  runCli,
  tlsCliArgs,
  parseClusterNodes,
  parseInfo,
  freePort,
  sleep,
  tempDir,
  removeDir,
}
