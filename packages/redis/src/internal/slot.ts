/**
 * Redis Cluster hash slots: CRC16 (XMODEM) of the key, or of its hash tag
 * (the first `{...}` with something inside), modulo 16384. Used to group the
 * keys of a multi-key read by slot, because a Cluster refuses cross-slot
 * commands.
 */
const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

const crc16 = (bytes: Uint8Array): number => {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc
}

/** The hash slot of a key. */
export const slotOf = (key: string): number => {
  const open = key.indexOf("{")
  if (open >= 0) {
    const close = key.indexOf("}", open + 1)
    if (close > open + 1) key = key.slice(open + 1, close)
  }
  return crc16(Buffer.from(key, "utf8")) % 16_384
}
