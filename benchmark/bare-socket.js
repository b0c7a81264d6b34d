'use strict'
// The least a client built on Node's own sockets can do per session read: one net.Socket, the
// GET written from a template, its bulk reply framed by hand, and express-session's JSON.parse.
// No store, no Promise, no RESP library, no error handling beyond what the measurement needs.
// benchmark/kernel-share.js runs it beside the stores at one operation in flight, to show what
// Node's socket streams alone cost there (every JavaScript store reads and writes through them).

const net = require('node:net')

function openBareSocket({ host, port, prefix = 'sess:' }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host)
    socket.setNoDelay(true)
    const waiting = []
    let head = 0
    let input = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      input = input.length === 0 ? chunk : Buffer.concat([input, chunk])
      for (;;) {
        const lineEnd = input.indexOf('\r\n')
        if (lineEnd < 0 || input[0] !== 0x24 /* $ */) break
        const len = Number(input.toString('latin1', 1, lineEnd))
        const end = len < 0 ? lineEnd + 2 : lineEnd + 2 + len + 2
        if (input.length < end) break
        const raw = len < 0 ? null : input.toString('utf8', lineEnd + 2, end - 2)
        input = input.subarray(end)
        const done = waiting[head]
        waiting[head++] = undefined
        if (head === waiting.length) waiting.length = head = 0
        done(null, raw === null ? null : JSON.parse(raw))
      }
    })
    socket.once('error', reject)
    socket.once('connect', () => {
      const store = {
        get(sid, done) {
          const key = prefix + sid
          waiting.push(done)
          socket.write(`*2\r\n$3\r\nGET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n`)
        },
      }
      resolve({ store, close: () => new Promise((r) => socket.end(r)) })
    })
  })
}

module.exports = { openBareSocket }
