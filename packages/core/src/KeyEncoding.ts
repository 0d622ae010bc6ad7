/**
 * Canonical key encoding: turns the schema-encoded form of a key into the
 * string a store keeps it under. The encoding is deterministic (same key, same
 * string, in every process and on every run), injective (two different keys
 * never share a string) and readable for simple keys:
 *
 * | key (encoded form)          | body                      |
 * | --------------------------- | ------------------------- |
 * | `{ userId: 42 }`            | `userId=42`               |
 * | `{ b: "x", a: 1 }`          | `a=1,b='x'`               |
 * | `"42"` / `42`               | `'42'` / `42`             |
 * | `{ q: "a:b*" }`             | `q='a%3Ab%2A'`            |
 * | `[1, "a"]`                  | `[1,'a']`                 |
 * | `{ f: { x: true } }`        | `f=(x=true)`              |
 *
 * Rules: strings are quoted with `'`; every character outside
 * `A-Z a-z 0-9 . _ - ~ @ / + !` is percent-encoded as UTF-8 (so `:`, `{`, `}`,
 * `*`, `?`, `[`, `]`, `'`, `%`, `#`, spaces and control characters never appear
 * raw); strings are NFC-normalised first, so `"é"` written precomposed or
 * decomposed is the same key; struct fields are sorted by name; fields whose
 * value is `undefined` are left out (an absent optional field and an
 * `undefined` one are the same key); `-0` is `0`. `NaN`, infinities, lone
 * surrogates, symbols, functions and class instances are rejected.
 *
 * A storage key longer than {@link MAX_KEY_LENGTH} characters keeps a readable
 * prefix and ends with `#` and the SHA-256 of the full body in base64url; `#`
 * never appears raw in an unhashed body, so hashed and unhashed keys cannot
 * collide. An optional Redis Cluster hash tag goes first, as `{tag}:`; braces
 * never appear raw in a body either.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import { type Schema, SchemaAST } from "effect"

/** Storage keys longer than this many characters (all ASCII, so bytes) are hashed. */
export const MAX_KEY_LENGTH = 256

/** How many characters of the body a hashed key keeps for readability. */
const HASHED_PREFIX_LENGTH = 96

/**
 * Raised by the encoder for a value it cannot encode; `Keyspace` turns it into
 * an `InvalidKey` failure that names the keyspace.
 */
export class KeyEncodingError extends Error {
  override readonly name = "KeyEncodingError"
}

const SAFE = new Uint8Array(128)
for (const char of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-~@/+!") {
  SAFE[char.charCodeAt(0)] = 1
}
const HEX = "0123456789ABCDEF"
const pct = (byte: number) => `%${HEX[byte >> 4]}${HEX[byte & 15]}`

/**
 * Percent-encodes every character outside the safe set, as the UTF-8 bytes of
 * its code point. A lone surrogate has no UTF-8 form and is rejected.
 */
export const escapeSegment = (input: string): string => {
  const s = input.normalize("NFC")
  let i = 0
  // Fast path: most keys are all-safe ASCII and need no copy.
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c >= 128 || SAFE[c] === 0) break
    i++
  }
  if (i === s.length) return s
  let out = s.slice(0, i)
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 128) {
      out += SAFE[c] === 1 ? s[i] : pct(c)
    } else if (c < 0x800) {
      out += pct(0xc0 | (c >> 6)) + pct(0x80 | (c & 63))
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1)
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw new KeyEncodingError(
          `a string holds a lone surrogate (\\u${c.toString(16)}) and has no UTF-8 form`,
        )
      }
      const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
      out +=
        pct(0xf0 | (cp >> 18)) +
        pct(0x80 | ((cp >> 12) & 63)) +
        pct(0x80 | ((cp >> 6) & 63)) +
        pct(0x80 | (cp & 63))
      i++
    } else {
      out += pct(0xe0 | (c >> 12)) + pct(0x80 | ((c >> 6) & 63)) + pct(0x80 | (c & 63))
    }
  }
  return out
}

const encodeScalar = (value: unknown, depth: number): string => {
  switch (typeof value) {
    case "string":
      return `'${escapeSegment(value)}'`
    case "number":
      if (!Number.isFinite(value)) throw new KeyEncodingError(`${value} cannot be part of a key`)
      return value === 0 ? "0" : String(value)
    case "boolean":
      return value ? "true" : "false"
    case "bigint":
      return `${value}n`
    case "object":
      if (value === null) return "null"
      if (depth > 32) throw new KeyEncodingError("a key nests deeper than 32 levels")
      if (Array.isArray(value)) {
        let out = "["
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ","
          const item: unknown = value[i]
          if (item === undefined) throw new KeyEncodingError("an array in a key holds undefined")
          out += encodeScalar(item, depth + 1)
        }
        return `${out}]`
      }
      return `(${encodeFields(value, depth + 1)})`
    default:
      throw new KeyEncodingError(`a ${typeof value} cannot be part of a key`)
  }
}

const encodeFields = (value: object, depth: number): string => {
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    throw new KeyEncodingError(
      `a ${value.constructor?.name ?? "class"} instance cannot be part of a key; use strings, numbers, booleans, null, arrays and plain objects`,
    )
  }
  const names = Object.keys(value).sort()
  let out = ""
  for (const name of names) {
    const field: unknown = (value as Record<string, unknown>)[name]
    if (field === undefined) continue
    if (out.length > 0) out += ","
    out += `${escapeSegment(name)}=${encodeScalar(field, depth)}`
  }
  return out
}

/**
 * Encodes the schema-encoded form of a key into its canonical body. A plain
 * object at the top is written as bare `field=value` pairs; anything else as
 * a scalar, array or nested struct.
 *
 * @example
 * ```ts
 * KeyEncoding.encode({ userId: 42, region: "eu" }) // "region='eu',userId=42"
 * ```
 */
export const encode = (value: unknown): string => {
  if (value === undefined) throw new KeyEncodingError("a key cannot be undefined")
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return encodeFields(value, 0)
  }
  return encodeScalar(value, 0)
}

/**
 * Returns the encoder for keys of `schema`: the same function as
 * {@link encode}, specialised when the schema's encoded side is a struct with
 * a fixed set of string fields (the common case), whose sorted field order
 * and escaped names are then computed once instead of on every call.
 *
 * @example
 * ```ts
 * const encodeUserKey = KeyEncoding.compile(Schema.Struct({ userId: Schema.Int }))
 * encodeUserKey({ userId: 42 }) // "userId=42"
 * ```
 */
export const compile = (schema: Schema.Top): ((encoded: unknown) => string) => {
  const ast = SchemaAST.toEncoded(schema.ast)
  if (!SchemaAST.isObjects(ast) || ast.indexSignatures.length > 0) return encode
  const names: Array<string> = []
  for (const property of ast.propertySignatures) {
    if (typeof property.name !== "string") return encode
    names.push(property.name)
  }
  const fields = names.sort().map((name) => [name, `${escapeSegment(name)}=`] as const)
  return (encoded) => {
    if (typeof encoded !== "object" || encoded === null || Array.isArray(encoded)) return encode(encoded)
    let out = ""
    for (const [name, prefix] of fields) {
      const value: unknown = (encoded as Record<string, unknown>)[name]
      if (value === undefined) continue
      out += out === "" ? prefix + encodeScalar(value, 0) : `,${prefix}${encodeScalar(value, 0)}`
    }
    return out
  }
}

/**
 * Builds the key a store keeps an entry under inside its keyspace: the
 * optional Redis Cluster hash tag (`{tag}:`) then the body. When the keyspace
 * id, the separator and this key together exceed {@link MAX_KEY_LENGTH}
 * characters, the body is cut to a readable start followed by `#` and its
 * SHA-256; the hash tag is always kept whole so the slot never changes.
 *
 * @example
 * ```ts
 * KeyEncoding.storeKey("search:v1", "", "q='" + "x".repeat(500) + "'")
 * // "q='xxxx…#<43 characters of SHA-256 base64url>"
 * ```
 */
export const storeKey = (space: string, hashTag: string, body: string): string => {
  const tagPart = hashTag === "" ? "" : `{${hashTag}}:`
  if (space.length + 1 + tagPart.length + body.length <= MAX_KEY_LENGTH) return tagPart + body
  return `${tagPart}${body.slice(0, HASHED_PREFIX_LENGTH)}#${hash(body)}`
}

/** SHA-256 of a string, base64url, 43 characters. */
export const hash = (body: string): string => createHash("sha256").update(body).digest("base64url")
