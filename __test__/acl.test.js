'use strict'
// Least privilege: an ACL user allowed only the keys `sess:*` and only the commands the store
// sends works in standalone and in cluster mode. The command list was found empirically (MONITOR
// and ACL LOG while every operation runs, with RESP3 and in cluster mode) and is:
//
//   ACL SETUSER sessions on >PASSWORD resetkeys ~sess:* resetchannels -@all
//       +get +set +expire +del +unlink +scan +mget +ping +hello +cluster|slots
//
//   +get +set +expire +del +unlink +scan +mget   the operations (set of an expired session is a DEL;
//                                                clear() uses UNLINK, destroy() DEL)
//   +hello   RESP3 (without it the store falls back to RESP2 and pings idle connections)
//   +ping    cluster connection checks, and the idle health check on RESP2
//   +cluster|slots   cluster mode only: the slot map
//   add +readonly with readFromReplicas: true (cluster), +select with db other than 0, and
//   +client|setinfo on Redis >= 7.2 (redis-rs sends CLIENT SETINFO and ignores a refusal; the
//   subcommand does not exist on 7.0, where ACL SETUSER rejects it).
//   AUTH needs no permission. Keys other than `sess:*` (another prefix) are refused with NOPERM.

const test = require('ava')
const { startRedis } = require('../scripts/redis-server')
const { startCluster, parseInfo } = require('../scripts/redis-cluster')
const { forms, named: RedisStore } = require('./helpers/forms')
const { closeStore, sleep } = require('./helpers/redis')
const { sess, plain } = require('./helpers/lifecycle-suite')
const { monitorMany } = require('./helpers/topology')

const PASSWORD = 'sessions-secret'
const COMMANDS = ['+get', '+set', '+expire', '+del', '+unlink', '+scan', '+mget', '+ping', '+hello']
const CLUSTER_COMMANDS = ['+cluster|slots']

let r
let c
const stores = []

async function extraCommands(server) {
  const version = parseInfo(await server.cli('INFO', 'server')).redis_version
  const [major, minor] = version.split('.').map(Number)
  return major > 7 || (major === 7 && minor >= 2) ? ['+client|setinfo'] : []
}

async function setUser(server, { user = 'sessions', commands, keys = '~sess:*' }) {
  await server.cli('ACL', 'SETUSER', user, 'reset', 'on', `>${PASSWORD}`, 'resetkeys', keys, 'resetchannels', '-@all', ...commands, ...(await extraCommands(server)))
}

const aclLog = async (server) => (await server.cli('ACL', 'LOG')).split('\n').filter(Boolean)
/** What ACL LOG recorded as denied for `user` on each server: ['port: object', …]. */
const deniedIn = async (servers, user = 'sessions') => {
  const out = []
  for (const s of servers) {
    const lines = await aclLog(s)
    // redis-cli prints each entry as field / value lines.
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] !== 'object') continue
      const u = lines.indexOf('username', i)
      if (u !== -1 && lines[u + 1] === user) out.push(`${s.port}: ${lines[i + 1]}`)
    }
  }
  return out
}

function make(opts) {
  const store = new RedisStore({ username: 'sessions', password: PASSWORD, connectTimeout: 2000, commandTimeout: 3000, ...opts })
  stores.push(store)
  return store
}

/** Every operation; resolves with the results, for comparison. */
async function everyOperation(t, store, label) {
  t.is(await store.set('a', sess(1)), 'OK', `${label}: set`)
  t.is(await store.set('b', sess(2)), 'OK', `${label}: set`)
  t.is(await store.set('gone', { cookie: { expires: new Date(Date.now() - 1000).toISOString() } }), 'OK', `${label}: set of an expired session (DEL)`)
  t.deepEqual(await store.get('a'), plain(sess(1)), `${label}: get`)
  t.is(await store.get('missing'), null, `${label}: get missing`)
  t.is(await store.touch('a', sess(1)), 1, `${label}: touch`)
  t.deepEqual([...(await store.ids())].sort(), ['a', 'b'], `${label}: ids`)
  t.is(await store.length(), 2, `${label}: length`)
  t.is((await store.all()).length, 2, `${label}: all`)
  t.is(await store.destroy('a'), 1, `${label}: destroy`)
  t.is(await store.set('c', sess(3)), 'OK')
  t.is(await store.destroy(['b', 'x']), 1, `${label}: destroy([...])`)
  t.is(await store.clear(), 1, `${label}: clear`)
}

test.before(async () => {
  ;[r, c] = await Promise.all([startRedis(), startCluster({ primaries: 3, replicasPerPrimary: 1 })])
  await setUser(r, { commands: COMMANDS })
  for (const n of c.nodes) await setUser(n.server, { commands: [...COMMANDS, ...CLUSTER_COMMANDS] })
})

test.after.always(async () => {
  await Promise.all(stores.map(closeStore))
  await Promise.all([r, c].filter(Boolean).map((x) => x.close()))
})

test.serial('standalone: the least-privilege user runs every operation, in both forms, and nothing is denied', async (t) => {
  await r.cli('ACL', 'LOG', 'RESET')
  for (const { name, Store } of forms) {
    const store = new Store({ host: r.host, port: r.port, username: 'sessions', password: PASSWORD })
    stores.push(store)
    await everyOperation(t, store, name)
  }
  const url = make({ url: `redis://sessions:${PASSWORD}@127.0.0.1:${r.port}`, username: undefined, password: undefined })
  await everyOperation(t, url, 'url credentials')
  t.deepEqual(await deniedIn([r]), [], 'ACL LOG: no command or key was denied')
})

test.serial('standalone: the ACL is needed and enough: each data command, when removed, breaks an operation', async (t) => {
  const needs = {
    '+get': (s) => s.get('a'),
    '+set': (s) => s.set('a', sess(1)),
    '+expire': (s) => s.touch('a', sess(1)),
    '+del': (s) => s.destroy('a'),
    '+unlink': (s) => s.clear(),
    '+scan': (s) => s.ids(),
    '+mget': (s) => s.all(),
  }
  for (const [cmd, op] of Object.entries(needs)) {
    await setUser(r, { user: 'partial', commands: COMMANDS.filter((x) => x !== cmd) })
    const store = make({ host: r.host, port: r.port, username: 'partial' })
    await r.cli('SET', 'sess:a', JSON.stringify(sess(1)))
    const err = await t.throwsAsync(op(store), undefined, `without ${cmd}`)
    if (err) t.regex(`${err.code} ${err.message}`, /NOPERM|permission/i, `without ${cmd}: ${err.code} ${err.message}`)
    await closeStore(store)
  }
  await r.cli('DEL', 'sess:a')
})

// A NOPERM reply is reported as ERR_REDIS_AUTH: the user lacks a permission the store needs.
test.serial('standalone: keys outside sess:* are refused (ERR_REDIS_AUTH, NOPERM), the connection stays usable', async (t) => {
  const other = make({ host: r.host, port: r.port, prefix: 'other:' })
  const err = await t.throwsAsync(other.set('a', sess(1)))
  t.is(err.code, 'ERR_REDIS_AUTH', err.message)
  t.regex(err.message, /NOPERM|permission/i)
  const ok = make({ host: r.host, port: r.port })
  t.is(await ok.set('a', sess(1)), 'OK')
  t.is(await ok.destroy('a'), 1)
  await r.cli('ACL', 'LOG', 'RESET')
})

test.serial('standalone: a wrong password for the ACL user is ERR_REDIS_AUTH with a disconnect event', async (t) => {
  const store = make({ host: r.host, port: r.port, password: 'wrong' })
  const disconnected = new Promise((resolve) => store.once('disconnect', resolve))
  const err = await t.throwsAsync(store.get('a'))
  t.is(err.code, 'ERR_REDIS_AUTH', err.message)
  const d = await Promise.race([disconnected, sleep(5000)])
  t.true(d instanceof Error && d.code === 'ERR_REDIS_AUTH', 'disconnect event with ERR_REDIS_AUTH')
})

test.serial('cluster: the least-privilege user (ACL on every node) runs every operation and nothing is denied', async (t) => {
  for (const n of c.nodes) await n.server.cli('ACL', 'LOG', 'RESET')
  for (const { name, Store } of forms) {
    const store = new Store({ cluster: c.seeds, username: 'sessions', password: PASSWORD })
    stores.push(store)
    await everyOperation(t, store, name)
  }
  // Many sessions, so bulk operations touch every primary with several chunks.
  const store = make({ cluster: c.seedUrls })
  await Promise.all(Array.from({ length: 2000 }, (_, i) => store.set(`m${i}`, sess(i))))
  t.is(await store.length(), 2000)
  t.is((await store.all()).length, 2000)
  t.is(await store.destroy(Array.from({ length: 500 }, (_, i) => `m${i}`)), 500)
  t.is(await store.clear(), 1500)
  t.deepEqual(await deniedIn(c.servers), [], 'ACL LOG on every node: no command or key was denied')
})

test.serial('cluster: without +cluster|slots the store cannot learn the slot map', async (t) => {
  for (const n of c.nodes) await setUser(n.server, { user: 'noslots', commands: COMMANDS })
  const store = make({ cluster: c.seeds, username: 'noslots' })
  const err = await t.throwsAsync(store.set('a', sess(1)))
  if (err) {
    t.log(`${err.code}: ${err.message}`)
    t.regex(err.message, /cluster\|slots/i, 'the error names the missing permission')
  }
  await closeStore(store)
})

test.serial('cluster: readFromReplicas needs +readonly as well; GETs then go to replicas', async (t) => {
  for (const n of c.nodes) await setUser(n.server, { user: 'reader', commands: [...COMMANDS, ...CLUSTER_COMMANDS, '+readonly'] })
  for (const n of c.nodes) await n.server.cli('ACL', 'LOG', 'RESET')
  const writer = make({ cluster: c.seeds, username: 'reader' })
  await Promise.all(Array.from({ length: 20 }, (_, i) => writer.set(`r${i}`, sess(i))))
  await sleep(300)
  const replicas = (await c.replicas()).map((n) => n.server)
  const reader = make({ cluster: c.seeds, username: 'reader', readFromReplicas: true })
  await reader.get('warm-up')
  const mon = await monitorMany(replicas)
  for (let i = 0; i < 20; i++) t.deepEqual(await reader.get(`r${i}`), plain(sess(i)))
  const gets = (await mon.stop()).filter((e) => e.cmd === 'GET' && e.args[0].startsWith('sess:r'))
  t.is(gets.length, 20, 'every GET went to a replica')
  t.deepEqual(await deniedIn(c.servers, 'reader'), [], 'ACL LOG: nothing denied')
  await writer.clear()
})
