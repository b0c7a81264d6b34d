'use strict'
// Issue 5, item 7: bad input, each outcome asserted. Every scenario runs in its own child
// process (scripts/bad-input-child.js) so a crash shows as a crash: the child must exit 0 by
// itself with no 'unhandledRejection', 'uncaughtException' or process warning. Around every
// scenario the keys outside the store's prefixes (in db 0, including look-alikes of the prefixes
// and keys an unescaped glob would match, and every key of db 1) are snapshotted with TYPE, DUMP
// and whether they have a TTL: nothing outside the prefix may change.
//
// Outcomes, from SPEC.md / README where they say, otherwise what a connect-redis user expects
// (marked "assumed"):
//   a hash at a session key       get: ERR_REDIS_SERVER (WRONGTYPE) (README table); the other
//                                 operations of the tick are unaffected; all() skips it
//   not JSON / not UTF-8 / ''     get: null and a 'corrupt' event (SPEC 4)
//   50 MB values                  read and written like any other (assumed: Redis takes 512 MB)
//   a cycle, BigInt, a throwing   set rejects with the serializer's error; nothing written
//   toJSON, an undefined session  (SPEC 4: a non-string from stringify is a TypeError)
//   `__proto__` keys              no prototype pollution, through get, all() and express-session
//   ids '', 1 MB, glob, control   round-trip; the key is exactly prefix + id (SPEC 4)
//   ids that are not strings      assumed: a number reads prefix + String(id) like connect-redis;
//                                 anything else settles (or is a TypeError), and never fails
//                                 the other operations of its tick
//   glob characters in prefix     ids/length/all/clear see only the store's own keys (SPEC 4)
//   TTLs                          SPEC 3: zero/negative/NaN delete and succeed; `ttl: 0` means
//                                 not set; huge values are clamped (assumed: to something Redis
//                                 accepts, the key lives > 30 years); a bad ttl is a TypeError,
//                                 synchronously from set/touch when assigned later
//   options of the wrong type     a TypeError at construction naming the option (SPEC 2)

const crypto = require('node:crypto')
const { execFile } = require('node:child_process')
const path = require('node:path')
const test = require('ava')
const { rawCommand, rawCommands, useRedis } = require('./helpers/redis')

const CHILD = path.join(__dirname, '..', 'scripts', 'bad-input-child.js')
const r = useRedis(test)

async function scanAll(db) {
  const keys = []
  let cursor = '0'
  do {
    const [next, batch] = await rawCommand(r, ['SCAN', cursor, 'COUNT', '1000'], { db })
    cursor = next.toString()
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/** key (latin1) -> "type:sha1(DUMP):ttl?" for every key of `db` not under one of `prefixes`. */
async function snapshot(db, prefixes = []) {
  const owned = (k) => prefixes.some((p) => k.startsWith(Buffer.from(p).toString('latin1')))
  const keys = (await scanAll(db)).filter((k) => !owned(k.toString('latin1')))
  const out = {}
  if (keys.length === 0) return out
  const replies = await rawCommands(r, keys.flatMap((k) => [['TYPE', k], ['DUMP', k], ['PTTL', k]]), { db })
  keys.forEach((k, i) => {
    const [type, dump, pttl] = replies.slice(i * 3, i * 3 + 3)
    const digest = dump ? crypto.createHash('sha1').update(dump).digest('hex') : 'none'
    out[k.toString('latin1')] = `${type}:${digest}:${pttl > 0 ? 'ttl' : pttl}`
  })
  return out
}

async function neighbours(root) {
  const names = ['wt', 'val', 'cyc', 'proto', 'ids', 'ttl']
  const keys = [
    'sess:neighbour',
    'other',
    ...names.flatMap((n) => [`${root}${n}`, `${root}${n};x`, `${root}${n.toUpperCase()}:a`, `x${root}${n}:a`]),
    // what the glob prefixes of the `prefix` scenario would match unescaped
    `${root}gA:1`,
    `${root}g:1`,
    `${root}gzx:1`,
    `${root}g?x:1`,
    `${root}a1:1`,
    `${root}a1:one`,
  ]
  await rawCommands(r, keys.map((k) => ['SET', k, JSON.stringify({ cookie: {}, neighbour: k })]))
  await rawCommands(r, [
    ['HSET', `${root}hash`, 'f', 'v'],
    ['SET', `${root}withttl`, 'x', 'EX', '3600'],
  ])
  await rawCommands(r, [['SET', `${root}wt:a`, 'db1'], ['SET', `${root}ids:`, 'db1'], ['SET', 'sess:x', 'db1']], { db: 1 })
}

function runChild(scenario, root) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CHILD, scenario],
      { env: { ...process.env, REDIS_HOST: r.host, REDIS_PORT: String(r.port), ROOT: root }, timeout: 90000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('RESULT '))
        resolve({
          code: err ? err.code : 0,
          signal: err ? err.signal : null,
          stderr,
          report: line ? JSON.parse(line.slice('RESULT '.length)) : null,
          stdout: line ? '' : stdout.slice(0, 2000),
        })
      },
    )
  })
}

/** Runs a scenario with the snapshot around it; `check(t, results)` asserts its outcomes. */
function scenario(name, title, check) {
  test.serial(title, async (t) => {
    t.timeout(120000)
    const root = `fi-${name}-${crypto.randomBytes(3).toString('hex')}:`
    await neighbours(root)
    const before0 = await snapshot(0)
    const before1 = await snapshot(1)
    const run = await runChild(name, root)
    t.is(run.signal, null, 'the child was not killed by a signal')
    t.is(run.code, 0, `the child exited 0 by itself${run.stderr ? `; stderr: ${run.stderr.slice(0, 2000)}` : ''}`)
    t.truthy(run.report, `the child reported its results${run.stdout ? `; stdout: ${run.stdout}` : ''}`)
    if (!run.report) return
    const { results, problems, warnings, prefixes } = run.report
    t.deepEqual(problems, [], "no 'unhandledRejection' or 'uncaughtException'")
    t.deepEqual(warnings, [], 'no process warning')
    t.is(run.stderr, '', 'nothing on stderr')
    const after0 = await snapshot(0, prefixes)
    const filteredBefore0 = Object.fromEntries(Object.entries(before0).filter(([k]) => !prefixes.some((p) => k.startsWith(Buffer.from(p).toString('latin1')))))
    t.log(`${Object.keys(filteredBefore0).length} keys outside the prefixes ${JSON.stringify([...new Set(prefixes)])} snapshotted in db 0, ${Object.keys(before1).length} in db 1`)
    t.deepEqual(after0, filteredBefore0, 'no key outside the store prefixes was created, changed or deleted (db 0)')
    t.deepEqual(await snapshot(1), before1, 'db 1 is untouched')
    check(t, results)
    // clean up the scenario's own keys so later snapshots stay small
    for (const p of new Set(prefixes)) {
      const own = (await scanAll(0)).filter((k) => k.toString('latin1').startsWith(Buffer.from(p).toString('latin1')))
      if (own.length) await rawCommands(r, own.map((k) => ['DEL', k]))
    }
  })
}

const sess = (n) => ({ cookie: { originalMaxAge: 600000, path: '/' }, n })
const ok = (t, results, name, expected, how = 'deepEqual') => {
  const res = results[name]
  t.truthy(res, `${name}: ran`)
  if (!res) return
  t.true(res.ok, `${name}: succeeds${res.err ? ` (got ${res.err.name} ${res.err.code}: ${res.err.message})` : ''}`)
  if (expected !== undefined) t[how](res.value, expected, name)
}
const fails = (t, results, name, { name: errName, code, message, sync } = {}) => {
  const res = results[name]
  t.truthy(res, `${name}: ran`)
  if (!res) return
  t.false(res.ok, `${name}: fails${res.ok ? ` (resolved ${JSON.stringify(res.value)})` : ''}`)
  if (res.ok) return
  if (errName) t.is(res.err.name, errName, `${name}: ${errName}`)
  if (code) t.is(res.err.code, code, `${name}: code ${code}`)
  if (message) t.regex(res.err.message, message, `${name}: message`)
  if (sync !== undefined) t.is(res.sync, sync, `${name}: ${sync ? 'thrown synchronously' : 'a rejected promise'}`)
}

scenario('wrongtype', 'a hash or list at a session key: get fails with ERR_REDIS_SERVER (WRONGTYPE), the rest of the tick is unaffected, all() skips it', (t, res) => {
  fails(t, res, 'get hash', { code: 'ERR_REDIS_SERVER', message: /WRONGTYPE/ })
  fails(t, res, 'get list', { code: 'ERR_REDIS_SERVER', message: /WRONGTYPE/ })
  ok(t, res, 'get hash and good in one tick', { hash: 'ERR_REDIS_SERVER', good: sess(1) })
  ok(t, res, 'all skips hash and list', ['good'])
  ok(t, res, 'ids lists every key', ['good', 'h', 'l'])
  ok(t, res, 'touch hash', 1)
  ok(t, res, 'set over hash', 'OK')
  ok(t, res, 'get after set over hash', sess(2))
  ok(t, res, 'destroy list', 1)
})

scenario('values', "values not JSON, not UTF-8, empty, or 50 MB: unreadable ones are null + 'corrupt', 50 MB ones work", (t, res) => {
  for (const sid of ['notjson', 'notutf8', 'empty', 'jsonnull']) ok(t, res, `get ${sid}`, null)
  ok(t, res, 'get 50 MB JSON')
  t.is(res['get 50 MB JSON'].value.blobLength, 50 * 1024 * 1024)
  ok(t, res, 'get 50 MB not JSON')
  t.is(res['get 50 MB not JSON'].value.value, null)
  ok(t, res, 'set 50 MB')
  t.is(res['set 50 MB'].value.value, 'OK')
  ok(t, res, 'strlen of the 50 MB set', JSON.stringify({ cookie: { originalMaxAge: 600000 }, blob: '' }).length + 50 * 1024 * 1024)
  ok(t, res, 'all with corrupt and 50 MB values', ['bigjson:52428800', 'bigset:52428800', 'good:1'])
  t.deepEqual([...new Set(res.corruptEvents.value)], ['bignotjson', 'empty', 'notjson', 'notutf8'], "'corrupt' was emitted for each unreadable value (and for no other)")
  t.true(res.corruptErrors.value.every((n) => typeof n === 'string' && /Error$/.test(n)), "'corrupt' carries an Error")
  t.log(`50 MB: get ${res['get 50 MB JSON'].value.ms} ms, set ${res['set 50 MB'].value.ms} ms`)
})

scenario('cycle', 'sessions that cannot be serialized: set rejects with the serializer error and writes nothing', (t, res) => {
  fails(t, res, 'set cyclic', { name: 'TypeError', message: /circular/i })
  ok(t, res, 'exists after cyclic', 0)
  ok(t, res, 'set cyclic with callback')
  const cb = res['set cyclic with callback'].value
  t.is(cb.calls, 1, 'callback called once')
  t.is(cb.err && cb.err.name, 'TypeError')
  t.is(cb.promise, 'resolved', 'with a callback the promise resolves')
  fails(t, res, 'set BigInt', { name: 'TypeError' })
  fails(t, res, 'set toJSON throws', { name: 'RangeError', message: /toJSON says no/ })
  fails(t, res, 'set undefined session', { name: 'TypeError' })
  fails(t, res, 'set a function as session', { name: 'TypeError' })
  ok(t, res, 'keys written', 0)
})

scenario('proto', 'JSON with __proto__ / constructor.prototype keys: no prototype pollution through get, all() or express-session', (t, res) => {
  ok(t, res, 'get', { pollution: [], prototypeIsObject: true, ownProto: true })
  ok(t, res, 'all', [{ pollution: [], prototypeIsObject: true, ownProto: true, id: 'p' }])
  ok(t, res, 'express-session createSession', { pollution: [], isSession: true })
  ok(t, res, 'set and get a session with an own __proto__ key')
  t.regex(res['set and get a session with an own __proto__ key'].value.stored, /"__proto__"/, 'the own __proto__ key is stored as data')
  t.deepEqual(res['set and get a session with an own __proto__ key'].value.back.pollution, [])
  ok(t, res, 'pollutionAtEnd', [])
})

scenario('ids', 'session ids: empty, 1 MB, glob and control characters round-trip as prefix + id; non-string ids never break other operations', (t, res) => {
  ok(t, res, 'set empty id', 'OK')
  ok(t, res, 'key of the empty id is the prefix', 1)
  ok(t, res, 'get empty id', sess(0))
  ok(t, res, 'set 1 MB id', 'OK')
  ok(t, res, 'get 1 MB id', sess(1))
  ok(t, res, 'touch 1 MB id', 1)
  ok(t, res, 'set odd ids')
  ok(t, res, 'get odd ids', [], 'deepEqual')
  ok(t, res, 'odd keys are prefix + id', [])
  ok(t, res, 'ids gives every id exactly', { missing: [], extra: [] })
  ok(t, res, "destroy('*') deletes one key", 1)
  ok(t, res, 'length after destroy *', 15)
  ok(t, res, 'lone surrogate id round-trips', 99)
  ok(t, res, 'destroy([]) is 0', 0)
  ok(t, res, 'destroy of the 1 MB id', 1)
  // assumed (connect-redis builds the key as prefix + sid):
  ok(t, res, 'get a number id reads prefix + String(id)', 123)
  ok(t, res, 'a number id does not disturb the other operations of its tick', { number: 123, other: 12 })
  for (const label of ['undefined', 'null', 'an object', 'an array']) {
    for (const method of ['get', 'set', 'destroy']) {
      const o = res[`${method} ${label} id settles`]
      t.truthy(o, `${method} ${label}: settled`)
      if (o && !o.ok) t.is(o.err.name, 'TypeError', `${method} with ${label} as the id: a clear TypeError if refused (got ${o.err.name} ${o.err.code}: ${o.err.message})`)
    }
  }
})

scenario('prefix', 'prefixes with glob characters: ids/length/all/clear see and delete only their own keys', (t, res) => {
  const own = { ids: ['one', 'three', 'two'], length: 3, all: ['one', 'three', 'two'], clear: 3, after: 0 }
  ok(t, res, 'glob prefixes see and clear only their own keys', { 'g*:': own, 'g?[x]\\:': own, 'a[1]:': own })
})

scenario('ttl', 'negative, zero, NaN, Infinity and huge TTLs: expired ones delete and succeed, huge ones are clamped, bad ones are TypeErrors', (t, res) => {
  const deleted = (name) => {
    ok(t, res, name)
    if (res[name] && res[name].ok) t.deepEqual(res[name].value, { res: 'OK', exists: 0, ttl: -2 }, `${name}: set succeeds and deletes the key`)
  }
  const lives = (name, min, max) => {
    ok(t, res, name)
    if (!(res[name] && res[name].ok)) return
    const { res: reply, exists, ttl } = res[name].value
    t.is(reply, 'OK', `${name}: OK`)
    t.is(exists, 1, `${name}: stored`)
    t.true(ttl >= min && ttl <= max, `${name}: TTL ${ttl} in [${min}, ${max}]`)
  }
  const HUGE = [1e9, Number.MAX_SAFE_INTEGER]
  deleted('ttl -5')
  lives('ttl 0 (not set: cookie maxAge 600 s)', 599, 600)
  lives('ttl Infinity', ...HUGE)
  deleted('ttl -Infinity')
  lives('ttl 1e300', ...HUGE)
  lives('ttl Number.MAX_VALUE', ...HUGE)
  deleted("ttl '-5'")
  lives("ttl '1e3'", 999, 1000)
  lives('ttl 0.2', 1, 1)
  deleted('ttl function -> NaN')
  lives('ttl function -> Infinity', ...HUGE)
  deleted('ttl function -> -1')
  deleted('ttl function -> 0')
  deleted("ttl function -> 'abc'")
  deleted('ttl function -> undefined')
  fails(t, res, 'ttl function throws', { name: 'RangeError', message: /ttl says no/ })
  t.deepEqual(res['ttl function throws'].after, { exists: 1, value: 'previous value' }, 'a throwing ttl function writes nothing')
  deleted('cookie maxAge -1000')
  deleted('cookie maxAge 0')
  deleted('cookie maxAge NaN')
  lives('cookie maxAge Infinity', ...HUGE)
  deleted('cookie expires in the past')
  deleted("cookie expires 'garbage'")
  lives('no cookie (one day)', 86399, 86400)
  fails(t, res, 'ttl NaN at construction', { name: 'TypeError', message: /must be a number or function/, sync: true })
  ok(t, res, 'touch with ttl -5 deletes')
  t.is(res['touch with ttl -5 deletes'].value.exists, 0)
  t.is(typeof res['touch with ttl -5 deletes'].value.res, 'number')
  ok(t, res, 'touch with ttl Infinity')
  t.is(res['touch with ttl Infinity'].value.res, 1)
  t.true(res['touch with ttl Infinity'].value.ttl >= 1e9)
  fails(t, res, "set after store.ttl = 'abc'", { name: 'TypeError', message: /must be a number or function/, sync: true })
  fails(t, res, "touch after store.ttl = 'abc'", { name: 'TypeError', message: /must be a number or function/, sync: true })
  fails(t, res, 'set after store.ttl = NaN', { name: 'TypeError', message: /must be a number or function/, sync: true })
  ok(t, res, 'late key not written', 0)
})

scenario('options', 'options of the wrong type: a TypeError at construction naming the option', (t, res) => {
  const names = Object.keys(res)
  t.true(names.length >= 40, `${names.length} bad options tried`)
  for (const label of names) {
    const o = res[label]
    t.false(o.ok, `${label}: refused`)
    if (o.ok) continue
    t.is(o.err.name, 'TypeError', `${label}: TypeError`)
    t.true(o.sync, `${label}: thrown by the constructor`)
    t.true(o.err.message.includes(`\`${o.option}\``), `${label}: the message names \`${o.option}\` (${o.err.message})`)
  }
})
