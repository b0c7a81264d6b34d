'use strict'
// Starts a throwaway Redis Sentinel topology from redis-server processes on free ports:
// a primary, a replica and three `redis-server <conf> --sentinel` processes monitoring the primary
// as `mymaster` with quorum 2, down-after-milliseconds 1000 and a short failover-timeout.
//
//   const { startSentinel } = require('../scripts/redis-sentinel')
//   const s = await startSentinel({ password, sentinelPassword, tls: certs })
//   s.name                 // 'mymaster'
//   s.sentinels            // [{ host, port }]
//   s.primary, s.replica   // RedisNode (host, port, pid, cli(), stop(), start()); swapped by failover()/killPrimary()
//   await s.cli(port, 'INFO', 'replication')     // a data node or a sentinel, by port
//   await s.sentinelCli('SENTINEL', 'get-master-addr-by-name', 'mymaster')
//   await s.failover()     // SENTINEL FAILOVER, waits until every sentinel and the nodes agree
//   await s.killPrimary()  // SIGKILL the primary, waits until the sentinels promoted the replica
//   await s.restartOld()   // brings the killed primary back; sentinels turn it into a replica
//   await s.close()
//
// Options: { name = 'mymaster', password (requirepass/masterauth of the data nodes, auth-pass of
//   the sentinels), username + password for an ACL user the sentinels use (auth-user), sentinelPassword
//   (requirepass of the sentinels), tls: certs from scripts/tls-certs.js (every process listens
//   with TLS only; replication and sentinel links use TLS), tlsAuthClients = 'no', args: extra
//   args for the data nodes, downAfter = 1000, failoverTimeout = 5000 }

const fs = require('node:fs')
const path = require('node:path')
const { RedisNode, freePort, parseInfo, runCli, tlsCliArgs, sleep, tempDir, removeDir } = require('./redis-cluster')

class SentinelNode extends RedisNode {
  constructor(opts) {
    super(opts)
    this.confFile = path.join(this.dir, `sentinel-${this.port}.conf`)
    this.config = opts.config
    fs.writeFileSync(this.confFile, this.config)
  }

  serverArgs() {
    return [this.confFile, '--sentinel']
  }
}

function sentinelConfig({ port, dir, name, primaryPort, password, username, sentinelPassword, tls, tlsAuthClients, downAfter, failoverTimeout, logFile }) {
  const lines = [
    tls ? 'port 0' : `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `logfile ${logFile}`,
    'daemonize no',
  ]
  if (tls) {
    lines.push(
      `tls-port ${port}`,
      `tls-cert-file ${tls.serverCertFile}`,
      `tls-key-file ${tls.serverKeyFile}`,
      `tls-ca-cert-file ${tls.caFile}`,
      `tls-auth-clients ${tlsAuthClients}`,
      'tls-replication yes',
    )
  }
  if (sentinelPassword) lines.push(`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`)
  lines.push(
    `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
    `sentinel down-after-milliseconds ${name} ${downAfter}`,
    `sentinel failover-timeout ${name} ${failoverTimeout}`,
    `sentinel parallel-syncs ${name} 1`,
  )
  if (username) lines.push(`sentinel auth-user ${name} ${username}`)
  if (password) lines.push(`sentinel auth-pass ${name} ${password}`)
  return lines.join('\n') + '\n'
}

class SentinelTopology {
  constructor({ dir, name, primary, replica, sentinelNodes, password, sentinelPassword, tls }) {
    Object.assign(this, { dir, name, primary, replica, sentinelNodes, password, sentinelPassword, tls })
  }

  get sentinels() {
    return this.sentinelNodes.map(({ host, port }) => ({ host, port }))
  }

  get dataNodes() {
    return [this.primary, this.replica]
  }

  byPort(port) {
    const n = [...this.dataNodes, ...this.sentinelNodes].find((x) => x.port === Number(port))
    if (!n) throw new Error(`no node on port ${port}`)
    return n
  }

  /** redis-cli against a data node or a sentinel, by port. */
  cli(port, ...args) {
    return this.byPort(port).cli(...args)
  }

  /** redis-cli against the first running sentinel. */
  sentinelCli(...args) {
    const s = this.sentinelNodes.find((x) => x.running)
    return s.cli(...args)
  }

  /** The primary's port according to each running sentinel. */
  async reportedPrimaries() {
    const out = []
    for (const s of this.sentinelNodes.filter((x) => x.running)) {
      const reply = (await s.cli('SENTINEL', 'get-master-addr-by-name', this.name)).split('\n')
      out.push(Number(reply[1]))
    }
    return out
  }

  async role(node) {
    return parseInfo(await node.cli('INFO', 'replication'))
  }

  /**
   * Waits until every sentinel reports `port` as the primary, that node says role:master, the
   * other data node (when running) replicates from it with its link up, and every sentinel
   * knows the replica and the other sentinels.
   */
  async waitPrimary(port, { timeout = 60000, requireReplica = true } = {}) {
    const deadline = Date.now() + timeout
    let last = ''
    for (;;) {
      try {
        last = await this.notReady(port, requireReplica)
        if (!last) return
      } catch (err) {
        last = err.message
      }
      if (Date.now() > deadline) throw new Error(`sentinel topology not settled on ${port} after ${timeout} ms: ${last}`)
      await sleep(100)
    }
  }

  async notReady(port, requireReplica) {
    const reported = await this.reportedPrimaries()
    if (!reported.every((p) => p === port)) return `sentinels report ${reported.join(',')}`
    const primary = this.byPort(port)
    const info = await this.role(primary)
    if (info.role !== 'master') return `${port} is ${info.role}`
    const other = this.dataNodes.find((n) => n.port !== port)
    if (requireReplica && other && other.running) {
      const r = await this.role(other)
      if (r.role !== 'slave' || Number(r.master_port) !== port) return `${other.port} not a replica of ${port}`
      if (r.master_link_status !== 'up') return `${other.port} link ${r.master_link_status}`
      for (const s of this.sentinelNodes.filter((x) => x.running)) {
        const reps = await s.cli('SENTINEL', 'replicas', this.name)
        if (!reps.split('\n').includes(String(other.port))) return `sentinel ${s.port} does not know replica ${other.port}`
      }
    }
    for (const s of this.sentinelNodes.filter((x) => x.running)) {
      // `SENTINEL master` prints alternating field / value lines.
      const lines = (await s.cli('SENTINEL', 'master', this.name)).split('\n')
      const fields = {}
      for (let i = 0; i + 1 < lines.length; i += 2) fields[lines[i]] = lines[i + 1]
      if (Number(fields['num-other-sentinels']) < this.sentinelNodes.length - 1) return `sentinel ${s.port} knows ${fields['num-other-sentinels']} others`
      if (/o_down|s_down|failover/.test(fields.flags || '')) return `sentinel ${s.port} flags ${fields.flags}`
    }
    return ''
  }

  /** Waits until the topology is settled on the current primary. */
  waitStable(opts) {
    return this.waitPrimary(this.primary.port, opts)
  }

  /**
   * `SENTINEL FAILOVER <name>` (a forced failover, no agreement needed), then waits until the
   * sentinels, the new primary and the old one (now a replica) all agree. Swaps primary/replica.
   * Resolves with { from, to, ms }.
   */
  async failover({ timeout = 60000 } = {}) {
    const from = this.primary
    const to = this.replica
    const started = Date.now()
    for (;;) {
      try {
        await this.sentinelCli('SENTINEL', 'FAILOVER', this.name).then((out) => {
          if (!/^OK/.test(out)) throw new Error(out)
        })
        break
      } catch (err) {
        // INPROG or NOGOODSLAVE right after a previous change: try again shortly.
        if (Date.now() - started > timeout) throw err
        await sleep(250)
      }
    }
    this.primary = to
    this.replica = from
    await this.waitPrimary(to.port, { timeout })
    return { from: from.port, to: to.port, ms: Date.now() - started }
  }

  /**
   * SIGKILLs the primary and waits until every sentinel reports the replica as the primary and
   * it says role:master. The killed node stays down (restartOld() brings it back as a replica).
   * Resolves with { from, to, ms } (ms: from the kill to the promotion).
   */
  async killPrimary({ timeout = 60000 } = {}) {
    const from = this.primary
    const to = this.replica
    const started = Date.now()
    await from.stop('SIGKILL')
    this.primary = to
    this.replica = from
    await this.waitPrimary(to.port, { timeout, requireReplica: false })
    return { from: from.port, to: to.port, ms: Date.now() - started }
  }

  /** Restarts the node killed by killPrimary(); the sentinels make it a replica of the new primary. */
  async restartOld({ timeout = 60000 } = {}) {
    await this.replica.start()
    await this.waitPrimary(this.primary.port, { timeout })
  }

  async close() {
    await Promise.all([...this.sentinelNodes, ...this.dataNodes].map((n) => n.stop()))
    removeDir(this.dir)
  }
}

async function startSentinel(options = {}) {
  const {
    name = 'mymaster',
    password,
    username,
    sentinelPassword,
    tls,
    tlsAuthClients = 'no',
    args = [],
    downAfter = 1000,
    failoverTimeout = 5000,
  } = options
  const dir = tempDir('crr-sentinel-')
  const started = []
  try {
    const mkdir = (label) => {
      const d = path.join(dir, label)
      fs.mkdirSync(d)
      return d
    }
    const primaryPort = await freePort()
    const replicaPort = await freePort()
    const dataArgs = (port) => [
      // Announced to the sentinels through INFO replication (needed when only a TLS port is open).
      '--replica-announce-ip', '127.0.0.1',
      '--replica-announce-port', String(port),
      ...(tls ? ['--tls-replication', 'yes'] : []),
      ...args,
    ]
    const primary = new RedisNode({ port: primaryPort, dir: mkdir(`data-${primaryPort}`), password, tls, tlsAuthClients, name: `redis-${primaryPort}`, args: dataArgs(primaryPort) })
    const replica = new RedisNode({
      port: replicaPort,
      dir: mkdir(`data-${replicaPort}`),
      password,
      tls,
      tlsAuthClients,
      name: `redis-${replicaPort}`,
      args: [...dataArgs(replicaPort), '--replicaof', '127.0.0.1', String(primaryPort)],
    })
    // With an ACL user, the replica authenticates as that user too.
    if (username) replica.args.push('--masteruser', username)
    started.push(primary, replica)
    await primary.start()
    await replica.start()

    const sentinelNodes = []
    for (let i = 0; i < 3; i++) {
      const port = await freePort()
      const d = mkdir(`sentinel-${port}`)
      const logFile = path.join(d, `sentinel-${port}.log`)
      sentinelNodes.push(
        new SentinelNode({
          port,
          dir: d,
          tls,
          tlsAuthClients,
          password: sentinelPassword,
          name: `sentinel-${port}`,
          config: sentinelConfig({ port, dir: d, name, primaryPort, password, username, sentinelPassword, tls, tlsAuthClients, downAfter, failoverTimeout, logFile }),
        }),
      )
    }
    started.push(...sentinelNodes)
    await Promise.all(sentinelNodes.map((s) => s.start()))
    const topo = new SentinelTopology({ dir, name, primary, replica, sentinelNodes, password, sentinelPassword, tls })
    await topo.waitStable()
    return topo
  } catch (err) {
    await Promise.all(started.map((n) => n.stop()))
    removeDir(dir)
    throw err
  }
}

module.exports = { startSentinel, SentinelNode, runCli, tlsCliArgs }
