'use strict'
// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its `{hash tag}`, mod
// 16384. The foreign-client driver groups multi-key commands by slot with it, so a DEL / MGET /
// UNLINK sent through a cluster client never spans two slots (CROSSSLOT).

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

function crc16(bytes, start, end) {
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]) & 0xff]
  return crc
}

/** The slot (0..16383) of `key` (a string or Buffer), honouring the first non-empty `{…}`. */
function keySlot(key) {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(String(key))
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(0x7b) // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1) // '}'
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  return crc16(bytes, start, end) % 16384
}

module.exports = { keySlot }
