import type { Store } from "@strata/core"

/**
 * The header Strata puts in front of every value it stores in Redis:
 * `<kind><version>:`, kind `v` (value), `t` (tombstone) or `c` (counter),
 * version a decimal token. Versions are tokens, not counters: a fill
 * compares the version it read for equality, so a write only needs a
 * version no earlier write of the key used. A random token below 2^52 gives
 * that without a round trip, and stays an exact JavaScript number.
 */
export const KIND_VALUE = 0x76 // v
export const KIND_TOMBSTONE = 0x74 // t
export const KIND_COUNTER = 0x63 // c

/** A fresh version token, as the decimal string the header and the scripts carry. */
export const newVersion = (): string => String(1 + Math.floor(Math.random() * 2 ** 52))

/** `payload` (or nothing, for a tombstone) behind a header of `kind` and `version`. */
export const stamped = (kind: number, version: string, payload?: Uint8Array): Buffer => {
  const header = `${String.fromCharCode(kind)}${version}:`
  if (payload === undefined) return Buffer.from(header, "latin1")
  const out = Buffer.allocUnsafe(header.length + payload.length)
  out.write(header, 0, "latin1")
  out.set(payload, header.length)
  return out
}

interface Header {
  readonly kind: number
  readonly version: number
  readonly offset: number
}

/** Parses the header; `undefined` for bytes Strata did not write (or a version past 2^53). */
const header = (bytes: Uint8Array): Header | undefined => {
  const kind = bytes[0]
  if (kind !== KIND_VALUE && kind !== KIND_TOMBSTONE && kind !== KIND_COUNTER) return undefined
  let version = 0
  let i = 1
  for (; i < bytes.length && i < 18; i++) {
    const c = bytes[i]!
    if (c === 0x3a) break
    if (c < 0x30 || c > 0x39) return undefined
    version = version * 10 + (c - 0x30)
  }
  if (i === 1 || bytes[i] !== 0x3a || !Number.isSafeInteger(version)) return undefined
  return { kind, version, offset: i + 1 }
}

/** The value inside stored bytes. Headerless bytes are returned whole, so the cache reports and drops them. */
export const storedValue = (bytes: Buffer | null): Uint8Array | undefined => {
  if (bytes === null) return undefined
  const h = header(bytes)
  if (h === undefined) return bytes
  return h.kind === KIND_TOMBSTONE ? undefined : bytes.subarray(h.offset)
}

/** The value and version inside stored bytes (a tombstone has a version and no value). */
export const versionedValue = (bytes: Buffer | null): Store.VersionedValue => {
  if (bytes === null) return { value: undefined, version: 0 }
  const h = header(bytes)
  if (h === undefined) return { value: bytes, version: 0 }
  return { value: h.kind === KIND_TOMBSTONE ? undefined : bytes.subarray(h.offset), version: h.version }
}
