/**
 * How one write is stored in the durable log and read back: the stream
 * entry's fields (`k`: the storage key, `e`: msgpack of the schema-encoded
 * key and value), and the entry's **version**, the sortable form of its
 * stream id that a flush compares to apply each key's writes at most once
 * and never go back to an older value.
 *
 * @since 0.1.0
 */
import { type Keyspace, Msgpack } from "@strata/core"
import { Result, Schema } from "effect"
import type { RawEntry } from "./WriteBehindStreamScripts.ts"

/**
 * The version of a stream entry id `<ms>-<seq>`: both parts zero-padded
 * (16 and 20 digits), so versions compare as strings in the order Redis
 * gave the ids (string `<` in JavaScript, `text` comparison in SQL).
 *
 * @example
 * ```ts
 * versionOf("1700000000000-2") // "0001700000000000-00000000000000000002"
 * ```
 */
export const versionOf = (entryId: string): string => {
  const [ms = "0", seq = "0"] = entryId.split("-")
  return `${ms.padStart(16, "0")}-${seq.padStart(20, "0")}`
}

/** A decoded entry of the log. */
export interface Decoded<K, V> {
  readonly entryId: string
  readonly version: string
  readonly id: string
  readonly key: K
  readonly value: V
}

/** Packs a key and value for the log; throws the schema's message when the value does not encode. */
export const encode = <K, V>(keyspace: Keyspace.Keyspace<K, V>, key: K, value: V): Uint8Array => {
  const encodedKey = Schema.encodeUnknownResult(keyspace.keySchema)(key)
  const encodedValue = Schema.encodeUnknownResult(keyspace.valueSchema)(value)
  if (Result.isFailure(encodedKey)) throw new Error(encodedKey.failure.message)
  if (Result.isFailure(encodedValue)) throw new Error(encodedValue.failure.message)
  Msgpack.checkStorable(encodedValue.success)
  return Msgpack.pack([encodedKey.success, encodedValue.success])
}

/**
 * Reads a raw entry back: the decoded entry, `undefined` for an entry
 * deleted from the stream, or a string saying why it cannot be read (bytes
 * from an incompatible deploy, a hostile writer).
 */
export const decode = <K, V>(
  keyspace: Keyspace.Keyspace<K, V>,
  [rawId, fields]: RawEntry,
): Decoded<K, V> | string | undefined => {
  if (fields === null) return undefined
  const entryId = rawId.toString()
  let id: string | undefined
  let packed: Uint8Array | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString()
    if (name === "k") id = fields[i + 1]!.toString()
    else if (name === "e") packed = fields[i + 1]
  }
  if (id === undefined || packed === undefined) return `entry ${entryId} lacks its k or e field`
  let pair: unknown
  try {
    pair = Msgpack.unpack(packed)
  } catch (error) {
    return `entry ${entryId} does not decode: ${(error as Error).message}`
  }
  if (!Array.isArray(pair) || pair.length !== 2) return `entry ${entryId} is not a [key, value] pair`
  const key = Schema.decodeUnknownResult(keyspace.keySchema)(pair[0])
  const value = Schema.decodeUnknownResult(keyspace.valueSchema)(pair[1])
  if (Result.isFailure(key)) return `entry ${entryId}: ${key.failure.message}`
  if (Result.isFailure(value)) return `entry ${entryId}: ${value.failure.message}`
  return { entryId, version: versionOf(entryId), id, key: key.success, value: value.success }
}

/** One key's write as a flush receives it: the newest write of the key in the batch. */
export interface StreamWrite<K, V> {
  readonly key: K
  /** The keyspace's storage key of `key`. */
  readonly id: string
  readonly value: V
  /** The stream id of this write. */
  readonly entryId: string
  /** `entryId` in sortable form: apply the write only if it is above the version stored for the key. */
  readonly version: string
  /** Every entry of the batch merged into this one (older writes of the key it supersedes), this one last. */
  readonly entryIds: ReadonlyArray<string>
}

/** The newest write of each key of `entries`, with every entry id it merges. */
export const collapse = <K, V>(entries: ReadonlyArray<Decoded<K, V>>): Array<StreamWrite<K, V>> => {
  const byKey = new Map<string, { newest: Decoded<K, V>; ids: Array<string> }>()
  for (const entry of entries) {
    const seen = byKey.get(entry.id)
    if (seen === undefined) byKey.set(entry.id, { newest: entry, ids: [entry.entryId] })
    else {
      seen.ids.push(entry.entryId)
      if (entry.version > seen.newest.version) seen.newest = entry
    }
  }
  return [...byKey.values()].map(({ newest, ids }) => ({
    key: newest.key,
    id: newest.id,
    value: newest.value,
    entryId: newest.entryId,
    version: newest.version,
    entryIds: ids.sort((a, b) => (versionOf(a) < versionOf(b) ? -1 : 1)),
  }))
}
