/**
 * An entry is what a tier stores for one key: the value (in its
 * schema-encoded form), when it was created, until when it is fresh, until
 * when it may be served stale, and the versions of its tags at write time.
 * On the wire it is a msgpack array `[format, createdAt, freshUntil,
 * staleUntil, tagVersions, value]`; times are wall-clock milliseconds since
 * the epoch, because entries in a shared tier are read by other processes.
 *
 * Counters (see `Keyspace.counter`) are stored as decimal text instead, so a
 * Redis tier can change them with `INCRBY`.
 *
 * @since 0.1.0
 */
import { Cause, Result, Schema, SchemaAST } from "effect"
import { InvalidValue } from "./Errors.ts"
import * as Msgpack from "./internal/msgpack.ts"
import type { Keyspace } from "./Keyspace.ts"

/** The envelope format this build writes and reads. */
/**
 * What a getter or proxy trap threw while a schema read the value: Effect's
 * schema runner wraps it in its own error, with the user's as a `Cause`.
 */
const readFailure = (error: unknown): string => {
  const wrapped = error instanceof Error && error.cause !== undefined ? error.cause : error
  const original = Cause.isCause(wrapped) ? Cause.squash(wrapped) : wrapped
  if (original instanceof Error) return original.message
  try {
    return String(original)
  } catch {
    // An object without a string form (no prototype): say what it is instead.
    return typeof original
  }
}

export const FORMAT = 1

/**
 * The versions of an entry's tags when it was written, as a flat list
 * `[tag, version, tag, version, ...]`.
 */
export type TagVersions = ReadonlyArray<string | number>

/** A decoded entry. */
export interface Entry<V> {
  readonly value: V
  readonly createdAt: number
  readonly freshUntil: number
  readonly staleUntil: number
  readonly tagVersions: TagVersions | undefined
}

/** An entry ready to be written: its bytes and the schema-encoded value they hold. */
export interface Encoded {
  readonly bytes: Uint8Array
  readonly encodedValue: unknown
}

/**
 * Encodes `value` with the keyspace's value schema and packs it with its
 * times and tag versions. Fails with `InvalidValue` when the value does not
 * match the schema or its encoded form cannot be stored exactly.
 */
export const encode = <K, V>(
  keyspace: Keyspace<K, V>,
  value: V,
  createdAt: number,
  freshUntil: number,
  staleUntil: number,
  tagVersions: TagVersions | undefined,
): Result.Result<Encoded, InvalidValue> => {
  const encodedValue = encodeValue(keyspace, value)
  if (Result.isFailure(encodedValue)) return Result.fail(encodedValue.failure)
  if (keyspace.kind === "counter") {
    return Result.succeed({
      bytes: counterBytes(encodedValue.success as number),
      encodedValue: encodedValue.success,
    })
  }
  const bytes = Msgpack.pack([
    FORMAT,
    createdAt,
    freshUntil,
    staleUntil,
    tagVersions ?? null,
    encodedValue.success,
  ])
  return Result.succeed({ bytes, encodedValue: encodedValue.success })
}

const encoders = new WeakMap<object, (u: unknown) => Result.Result<unknown, Schema.SchemaError>>()
const decoders = new WeakMap<object, (u: unknown) => Result.Result<unknown, Schema.SchemaError>>()

const encoderOf = (schema: Schema.Codec<any, unknown>) => {
  let encoder = encoders.get(schema)
  if (encoder === undefined) {
    encoder = Schema.encodeUnknownResult(schema as Schema.Codec<unknown, unknown>)
    encoders.set(schema, encoder)
  }
  return encoder
}

const decoderOf = (schema: Schema.Codec<any, unknown>) => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    const full = Schema.decodeUnknownResult(schema as Schema.Codec<unknown, unknown>)
    if (SchemaAST.toEncoded(schema.ast) === schema.ast) {
      // No transformation: the value read from storage is already of the right type once checked, and it is a
      // fresh object of ours, so checking (no allocation) replaces decoding; the full decoder only explains failures.
      const is = Schema.is(schema as Schema.Codec<unknown, unknown>)
      decoder = (u) => (is(u) ? Result.succeed(u) : full(u))
    } else {
      decoder = full
    }
    decoders.set(schema, decoder)
  }
  return decoder
}

/** Encodes a value with its keyspace's schema and checks that the result can be stored exactly. */
export const encodeValue = <K, V>(
  keyspace: Keyspace<K, V>,
  value: V,
): Result.Result<unknown, InvalidValue> => {
  let encoded: Result.Result<unknown, Schema.SchemaError>
  try {
    encoded = encoderOf(keyspace.valueSchema)(value)
  } catch (error) {
    // A getter or proxy trap that throws inside the value: Effect's schema runner lets it escape.
    return Result.fail(
      new InvalidValue({
        keyspace: keyspace.id,
        message: `the value could not be read: ${readFailure(error)}`,
      }),
    )
  }
  if (Result.isFailure(encoded)) {
    return Result.fail(
      new InvalidValue({
        keyspace: keyspace.id,
        message: `the value does not match the value schema: ${encoded.failure.message}`,
      }),
    )
  }
  try {
    Msgpack.checkStorable(encoded.success)
  } catch (error) {
    return Result.fail(
      new InvalidValue({
        keyspace: keyspace.id,
        message: `${(error as Error).message}; nothing was written`,
      }),
    )
  }
  return Result.succeed(encoded.success)
}

/** Decodes a schema-encoded value with its keyspace's schema. */
export const decodeValue = <K, V>(
  keyspace: Keyspace<K, V>,
  encodedValue: unknown,
): Result.Result<V, string> => {
  let decoded: Result.Result<unknown, Schema.SchemaError>
  try {
    decoded = decoderOf(keyspace.valueSchema)(encodedValue)
  } catch (error) {
    // A schema that cannot decode synchronously (an effectful transformation) or that throws: Effect's
    // synchronous runner lets it escape. Unreadable, like any bytes that fail the schema.
    return Result.fail(`the value schema could not decode the stored value: ${readFailure(error)}`)
  }
  return Result.isFailure(decoded)
    ? Result.fail(`the stored value does not match the value schema: ${decoded.failure.message}`)
    : (decoded as Result.Result<V, never>)
}

/** The envelope of an entry with its value still schema-encoded. */
export interface Envelope {
  readonly createdAt: number
  readonly freshUntil: number
  readonly staleUntil: number
  readonly tagVersions: TagVersions | undefined
  readonly encodedValue: unknown
}

const isTime = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)

/**
 * Reads the envelope from stored bytes, or says why it cannot: undecodable
 * bytes, an unknown format, a malformed envelope. Never throws. Counter bytes
 * read as an envelope that never expires (the store owns a counter's TTL).
 */
export const unpackEnvelope = <K, V>(
  keyspace: Keyspace<K, V>,
  bytes: Uint8Array,
): Result.Result<Envelope, string> => {
  if (keyspace.kind === "counter") {
    const count = parseCounter(bytes)
    return count === undefined
      ? Result.fail("the stored bytes are not a decimal counter")
      : Result.succeed({
          createdAt: 0,
          freshUntil: Number.MAX_SAFE_INTEGER,
          staleUntil: Number.MAX_SAFE_INTEGER,
          tagVersions: undefined,
          encodedValue: count,
        })
  }
  let raw: unknown
  try {
    raw = Msgpack.unpack(bytes)
  } catch (error) {
    return Result.fail(`the stored bytes do not decode: ${(error as Error).message}`)
  }
  if (!Array.isArray(raw) || raw.length !== 6)
    return Result.fail("the stored bytes are not an entry envelope")
  const [format, createdAt, freshUntil, staleUntil, tagVersions, encodedValue] = raw
  if (format !== FORMAT) return Result.fail(`unknown entry format ${String(format)}`)
  if (!isTime(createdAt) || !isTime(freshUntil) || !isTime(staleUntil) || staleUntil < freshUntil) {
    return Result.fail("the entry's times are malformed")
  }
  if (tagVersions !== null && !isTagVersions(tagVersions))
    return Result.fail("the entry's tag versions are malformed")
  return Result.succeed({
    createdAt,
    freshUntil,
    staleUntil,
    tagVersions: tagVersions === null ? undefined : tagVersions,
    encodedValue,
  })
}

const isTagVersions = (u: unknown): u is TagVersions => {
  if (!Array.isArray(u) || u.length % 2 !== 0) return false
  for (let i = 0; i < u.length; i += 2) {
    if (typeof u[i] !== "string" || !Number.isSafeInteger(u[i + 1])) return false
  }
  return true
}

/** Reads an entry from stored bytes, or says why it cannot. Never throws. */
export const decode = <K, V>(
  keyspace: Keyspace<K, V>,
  bytes: Uint8Array,
): Result.Result<Entry<V>, string> => {
  const envelope = unpackEnvelope(keyspace, bytes)
  if (Result.isFailure(envelope)) return Result.fail(envelope.failure)
  const value = decodeValue(keyspace, envelope.success.encodedValue)
  if (Result.isFailure(value)) return Result.fail(value.failure)
  const { createdAt, freshUntil, staleUntil, tagVersions } = envelope.success
  return Result.succeed({ value: value.success, createdAt, freshUntil, staleUntil, tagVersions })
}

const COUNTER = /^-?(0|[1-9][0-9]{0,15})$/

/** Reads a counter stored as decimal text; `undefined` if the bytes are not one. */
export const parseCounter = (bytes: Uint8Array): number | undefined => {
  if (bytes.length === 0 || bytes.length > 17) return undefined
  const text = String.fromCharCode(...bytes)
  if (!COUNTER.test(text)) return undefined
  const count = Number(text)
  return Number.isSafeInteger(count) ? count : undefined
}

/** The decimal text a counter is stored as. */
export const counterBytes = (count: number): Uint8Array => new TextEncoder().encode(String(count))
