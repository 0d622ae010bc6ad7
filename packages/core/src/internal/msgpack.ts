/**
 * The wire format of values: msgpack, written by msgpackr and read back by a
 * strict decoder of our own.
 *
 * Why our own decoder: msgpackr's unpacker revives `Error`, `RegExp`, `Set`,
 * typed arrays and record structures from extension types whatever its
 * options (extensions are global), and renames `__proto__` keys. Bytes in a
 * shared store may come from an old deploy or a hostile writer, so reading
 * must never instantiate a class or touch a prototype: this decoder knows
 * only nil, booleans, numbers, strings, binary, arrays, string-keyed maps,
 * `undefined` (msgpackr's fixext 0) and timestamps, and rejects the rest.
 *
 * Writing goes through {@link checkStorable} first, which rejects what would
 * not read back exactly, so the packer only ever sees plain data.
 */
import { Packr } from "msgpackr"

/** A value that cannot be stored exactly; the message names the path. */
export class NotStorable extends Error {
  override readonly name = "NotStorable"
}

/** Malformed or unsupported bytes. */
export class Undecodable extends Error {
  override readonly name = "Undecodable"
}

const packr = new Packr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  encodeUndefinedAsNil: false,
  variableMapSize: true,
})

/** Packs plain data (checked by {@link checkStorable}) into a fresh buffer. */
export const pack = (value: unknown): Uint8Array => packr.pack(value)

const describe = (value: object): string => value.constructor?.name ?? "null-prototype object"

/**
 * Throws {@link NotStorable} unless `value` reads back exactly after a
 * msgpack round trip: `-0`, lone surrogates, bigints, functions, symbols,
 * cycles, sparse arrays, `__proto__` keys, symbol keys, invalid dates and
 * class instances (Map, Set, RegExp, ...) are rejected.
 */
export const checkStorable = (value: unknown): void => check(value, "value", [])

const check = (value: unknown, path: string, ancestors: Array<object>): void => {
  switch (typeof value) {
    case "undefined":
    case "boolean":
      return
    case "number":
      if (Object.is(value, -0)) throw new NotStorable(`${path} is -0, which msgpack stores as 0`)
      return
    case "string":
      if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) {
        throw new NotStorable(`${path} holds a lone surrogate, which has no UTF-8 form`)
      }
      return
    case "object": {
      if (value === null) return
      if (value instanceof Uint8Array) {
        if (value.constructor !== Uint8Array && value.constructor !== Buffer) {
          throw new NotStorable(`${path} is a ${describe(value)}`)
        }
        return
      }
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new NotStorable(`${path} is an invalid Date`)
        return
      }
      if (ancestors.includes(value)) throw new NotStorable(`${path} is a cycle`)
      if (ancestors.length > 100) throw new NotStorable(`${path} nests deeper than 100 levels`)
      ancestors.push(value)
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new NotStorable(`${path}[${i}] is a hole in a sparse array`)
          check(value[i], `${path}[${i}]`, ancestors)
        }
      } else {
        const proto = Object.getPrototypeOf(value)
        if (proto !== Object.prototype && proto !== null) {
          throw new NotStorable(
            `${path} is a ${describe(value)}; the value schema must encode it to plain data (objects, arrays, strings, numbers, booleans, null, Uint8Array, Date)`,
          )
        }
        if (Object.getOwnPropertySymbols(value).length > 0) throw new NotStorable(`${path} has symbol keys`)
        for (const name of Object.keys(value)) {
          if (name === "__proto__")
            throw new NotStorable(`${path} has a "__proto__" key, which Strata refuses to store`)
          check((value as Record<string, unknown>)[name], `${path}.${name}`, ancestors)
        }
      }
      ancestors.pop()
      return
    }
    default:
      throw new NotStorable(`${path} is a ${typeof value}`)
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

const decodeUtf8 = (bytes: Uint8Array): string => {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new Undecodable("a string is not valid UTF-8")
  }
}

class Reader {
  pos = 0
  readonly view: DataView
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  need(n: number): number {
    const at = this.pos
    if (at + n > this.bytes.length) throw new Undecodable("unexpected end of data")
    this.pos = at + n
    return at
  }

  str(length: number): string {
    const at = this.need(length)
    const bytes = this.bytes
    // Short ASCII strings (most keys and many values) are cheaper to build from their bytes at once than
    // through TextDecoder. At once, not a character at a time: appended characters make a rope (a cons string)
    // that is slower to use and holds more memory until V8 flattens it.
    if (length < 64) {
      for (let i = at; i < at + length; i++) {
        if (bytes[i]! >= 128) return decodeUtf8(bytes.subarray(at, at + length))
      }
      return String.fromCharCode.apply(null, bytes.subarray(at, at + length) as unknown as Array<number>)
    }
    return decodeUtf8(bytes.subarray(at, at + length))
  }

  bin(length: number): Uint8Array {
    const at = this.need(length)
    // A plain Uint8Array even when reading from a Buffer, so values never depend on where bytes came from.
    const out = new Uint8Array(length)
    out.set(this.bytes.subarray(at, at + length))
    return out
  }

  array(length: number, depth: number): Array<unknown> {
    if (length > this.bytes.length - this.pos) throw new Undecodable("array longer than the data")
    const out = new Array<unknown>(length)
    for (let i = 0; i < length; i++) out[i] = this.read(depth)
    return out
  }

  map(length: number, depth: number): Record<string, unknown> {
    if (length > this.bytes.length - this.pos) throw new Undecodable("map longer than the data")
    const out: Record<string, unknown> = {}
    for (let i = 0; i < length; i++) {
      const name = this.read(depth)
      if (typeof name !== "string") throw new Undecodable("map key is not a string")
      if (name === "__proto__") throw new Undecodable('map key "__proto__"')
      // A duplicate key simply replaces the earlier value, as in every msgpack reader; no check needed for safety.
      out[name] = this.read(depth)
    }
    return out
  }

  ext(length: number): unknown {
    const type = this.view.getInt8(this.need(1))
    const at = this.need(length)
    if (type === 0 && length === 1) return undefined
    if (type === -1) {
      // msgpack timestamp 32, 64 and 96.
      if (length === 4) return new Date(this.view.getUint32(at) * 1000)
      if (length === 8) {
        const hi = this.view.getUint32(at)
        const lo = this.view.getUint32(at + 4)
        const nanos = hi >>> 2
        const seconds = (hi & 3) * 2 ** 32 + lo
        return new Date(seconds * 1000 + Math.floor(nanos / 1e6))
      }
      if (length === 12) {
        const nanos = this.view.getUint32(at)
        const seconds = Number(this.view.getBigInt64(at + 4))
        return new Date(seconds * 1000 + Math.floor(nanos / 1e6))
      }
    }
    throw new Undecodable(`unsupported extension type ${type}`)
  }

  read(depth: number): unknown {
    if (depth > 128) throw new Undecodable("nested deeper than 128 levels")
    const b = this.bytes[this.need(1)]!
    if (b < 0x80) return b
    if (b < 0x90) return this.map(b & 0x0f, depth + 1)
    if (b < 0xa0) return this.array(b & 0x0f, depth + 1)
    if (b < 0xc0) return this.str(b & 0x1f)
    if (b >= 0xe0) return b - 0x100
    const v = this.view
    switch (b) {
      case 0xc0:
        return null
      case 0xc2:
        return false
      case 0xc3:
        return true
      case 0xc4:
        return this.bin(v.getUint8(this.need(1)))
      case 0xc5:
        return this.bin(v.getUint16(this.need(2)))
      case 0xc6:
        return this.bin(v.getUint32(this.need(4)))
      case 0xc7:
        return this.ext(v.getUint8(this.need(1)))
      case 0xc8:
        return this.ext(v.getUint16(this.need(2)))
      case 0xc9:
        return this.ext(v.getUint32(this.need(4)))
      case 0xca:
        return v.getFloat32(this.need(4))
      case 0xcb:
        return v.getFloat64(this.need(8))
      case 0xcc:
        return v.getUint8(this.need(1))
      case 0xcd:
        return v.getUint16(this.need(2))
      case 0xce:
        return v.getUint32(this.need(4))
      case 0xcf:
        return Number(v.getBigUint64(this.need(8)))
      case 0xd0:
        return v.getInt8(this.need(1))
      case 0xd1:
        return v.getInt16(this.need(2))
      case 0xd2:
        return v.getInt32(this.need(4))
      case 0xd3:
        return Number(v.getBigInt64(this.need(8)))
      case 0xd4:
        return this.ext(1)
      case 0xd5:
        return this.ext(2)
      case 0xd6:
        return this.ext(4)
      case 0xd7:
        return this.ext(8)
      case 0xd8:
        return this.ext(16)
      case 0xd9:
        return this.str(v.getUint8(this.need(1)))
      case 0xda:
        return this.str(v.getUint16(this.need(2)))
      case 0xdb:
        return this.str(v.getUint32(this.need(4)))
      case 0xdc:
        return this.array(v.getUint16(this.need(2)), depth + 1)
      case 0xdd:
        return this.array(v.getUint32(this.need(4)), depth + 1)
      case 0xde:
        return this.map(v.getUint16(this.need(2)), depth + 1)
      case 0xdf:
        return this.map(v.getUint32(this.need(4)), depth + 1)
      default:
        throw new Undecodable(`unsupported type byte 0x${b.toString(16)}`)
    }
  }
}

/**
 * Reads msgpack bytes as plain data. Throws {@link Undecodable} on
 * malformed, truncated or trailing bytes and on any type outside the plain
 * set; never builds a class instance other than `Date` and `Uint8Array`.
 */
export const unpack = (bytes: Uint8Array): unknown => {
  const reader = new Reader(bytes)
  const value = reader.read(0)
  if (reader.pos !== bytes.length) throw new Undecodable("trailing bytes after the value")
  return value
}
