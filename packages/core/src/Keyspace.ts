/**
 * A keyspace is the typed declaration of one kind of cached data: the schema
 * of its key, the schema of its value, how long entries stay fresh, how long
 * they may be served stale, which tags they carry and which format version
 * they are. Every read and write goes through a keyspace, so the key and the
 * value are typed at compile time and validated at run time.
 *
 * @since 0.1.0
 */
import { Cause, type Duration, Result, Schema, SchemaAST } from "effect"
import { InvalidKey, InvalidKeyspace } from "./Errors.ts"
import { lifetime } from "./internal/duration.ts"
import * as KeyEncoding from "./KeyEncoding.ts"

const TypeId = "~@strata/core/Keyspace" as const

/** A schema Strata can use for keys or values: no services needed to encode or decode. */
export type AnySchema = Schema.Codec<any, any, never, never>

/**
 * A declared keyspace. `K` is the key type and `V` the value type, both
 * inferred from the schemas, so `cache.get(Profiles, { userId: 1 })` is typed
 * with no annotation.
 */
export interface Keyspace<in out K, in out V> {
  readonly [TypeId]: typeof TypeId
  /** The stable name, `[a-z0-9][a-z0-9._-]*`. */
  readonly name: string
  /** The format version; bump it when values change incompatibly. */
  readonly version: number
  /** `name:vN`: the namespace stores keep this keyspace's entries under. */
  readonly id: string
  /** `"entry"` for values written by `set`, `"counter"` for `Keyspace.counter`. */
  readonly kind: "entry" | "counter"
  readonly keySchema: Schema.Codec<K, unknown>
  readonly valueSchema: Schema.Codec<V, unknown>
  /** How long an entry is fresh, in milliseconds. */
  readonly ttlMillis: number
  /** How long after going stale an entry may still be served on a declared condition. */
  readonly staleForMillis: number
  /** The tags an entry of this key carries, for `invalidateTag`. */
  readonly tags: ((key: K) => ReadonlyArray<string>) | undefined
  /** XFetch's β for probabilistic early refresh (see {@link Options.earlyRefresh}); 0 when off. */
  readonly earlyRefresh: number
  /**
   * The key a store keeps `key`'s entry under inside this keyspace (see
   * `KeyEncoding`). Throws `InvalidKey` when the key does not match the key
   * schema or cannot be encoded.
   */
  readonly storeKey: (key: K) => string
  /**
   * The same key as {@link storeKey} for a valid key, computed without
   * running the key schema (only when the schema has no transformation), or
   * `undefined` when it cannot tell. For lookups only: an invalid key gives a
   * string no stored entry has, so it can only miss, and the miss path
   * validates it.
   */
  readonly lookupKey: (key: K) => string | undefined
}

/** The key type of a keyspace. */
export type Key<KS> = KS extends Keyspace<infer K, any> ? K : never

/** The value type of a keyspace. */
export type Value<KS> = KS extends Keyspace<any, infer V> ? V : never

/** A keyspace whose entries are atomic counters, made by {@link counter}. */
export interface Counter<in out K> extends Keyspace<K, number> {
  readonly kind: "counter"
}

/** The options of {@link make}. */
export interface Options<KS extends AnySchema, VS extends AnySchema> {
  /** Stable name, `[a-z0-9][a-z0-9._-]*`, at most 64 characters. Part of every storage key. */
  readonly name: string
  /** Schema of the key. Its encoded form must be strings, numbers, booleans, null, arrays or plain objects. */
  readonly key: KS
  /** Schema of the value. Its encoded form is what is stored (msgpack). */
  readonly value: VS
  /** How long an entry is fresh: an Effect duration such as `"1 hour"` or a number of milliseconds. */
  readonly ttl: Duration.Input
  /** Grace after `ttl` during which a stale value may be served if the loader fails. Default 0. */
  readonly staleFor?: Duration.Input | undefined
  /** Tags of an entry, derived from its key, for `invalidateTag`. */
  readonly tags?: ((key: KS["Type"]) => ReadonlyArray<string>) | undefined
  /** Format version, a positive integer. Default 1. Bump it on an incompatible value change. */
  readonly version?: number | undefined
  /**
   * Redis Cluster hash tag: `"keyspace"` puts the whole keyspace in one slot;
   * a function puts the keys it maps to the same string in one slot.
   */
  readonly hashTag?: "keyspace" | ((key: KS["Type"]) => string | number) | undefined
  /**
   * Probabilistic early refresh (XFetch; A. Vattani, F. Chierichetti,
   * K. Lowenstein, "Optimal Probabilistic Cache Stampede Prevention", VLDB
   * 2015): β ≥ 0, 0 (the default) turns it off and 1 is the paper's choice.
   * On a `getOrSet` L1 hit, the entry is reloaded in the background when
   * `δ·β·(−ln U) ≥ remaining` (δ: the keyspace's recent loader time in ms in
   * this process, U uniform in (0, 1]), so a hot key is reloaded just before
   * it expires and never misses; larger β refreshes earlier. The caller gets
   * the fresh value it hit; the refresh is one flight (and, with leases, one
   * process) like any load.
   */
  readonly earlyRefresh?: number | undefined
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** The options `make` and `counter` take (a counter's `value` is set by `counter`). */
const OPTIONS: ReadonlyArray<string> = [
  "name",
  "key",
  "value",
  "ttl",
  "staleFor",
  "tags",
  "version",
  "hashTag",
  "earlyRefresh",
]

/** Most scalar keys a keyspace remembers the lookup encoding of (see `lookupKey`). */
const LOOKUP_MEMO = 10_000

const build = <K, V>(
  kind: "entry" | "counter",
  options: Options<Schema.Codec<K, any, never, never>, Schema.Codec<V, any, never, never>>,
): Keyspace<K, V> => {
  const { name } = options
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new InvalidKeyspace({
      message: `Keyspace name ${JSON.stringify(name)} is invalid: use 1 to 64 characters of [a-z0-9._-], starting with a letter or digit`,
    })
  }
  // A misspelt option (`staleFr`) must not quietly leave a keyspace without its grace window.
  for (const option of Object.keys(options))
    if (!OPTIONS.includes(option))
      throw new InvalidKeyspace({
        message: `Keyspace "${name}": unknown option ${JSON.stringify(option)}; the options are ${OPTIONS.join(", ")}`,
      })
  const version = options.version ?? 1
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new InvalidKeyspace({
      message: `Keyspace "${name}": version must be a positive integer, got ${version}`,
    })
  }
  let ttlMillis: number
  let staleForMillis: number
  try {
    ;({ ttl: ttlMillis, staleFor: staleForMillis } = lifetime(
      options.ttl,
      options.staleFor ?? 0,
      `Keyspace "${name}"`,
    ))
  } catch (error) {
    throw new InvalidKeyspace({ message: (error as Error).message })
  }
  const earlyRefresh = options.earlyRefresh ?? 0
  if (typeof earlyRefresh !== "number" || !Number.isFinite(earlyRefresh) || earlyRefresh < 0) {
    throw new InvalidKeyspace({
      message: `Keyspace "${name}": earlyRefresh must be a finite number >= 0 (XFetch's beta), got ${String(earlyRefresh)}`,
    })
  }
  const id = `${name}:v${version}`
  const encodeKey = Schema.encodeUnknownResult(options.key)
  const encodeBody = KeyEncoding.compile(options.key)
  const hashTagOption = options.hashTag
  const invalid = (message: string) => new InvalidKey({ keyspace: id, message })
  const keyspaceTag = hashTagOption === "keyspace" ? KeyEncoding.escapeSegment(id) : ""
  const hashTagOf = (key: K) =>
    typeof hashTagOption === "function" ? KeyEncoding.escapeSegment(String(hashTagOption(key))) : keyspaceTag
  const storeKey = (key: K): string => {
    // A scalar key of an untransformed schema is its own encoded form: checking it is enough, and its
    // encoding is the one lookups remember. Objects take the full path (it strips what the schema does not
    // declare, at every depth).
    if (
      isScalarKey !== undefined &&
      (typeof key === "string" || typeof key === "number") &&
      isScalarKey(key)
    ) {
      const found = lookupKey(key)
      if (found !== undefined) return found
    }
    let encoded: Result.Result<unknown, Schema.SchemaError>
    try {
      encoded = encodeKey(key)
    } catch (error) {
      // A getter or proxy trap that throws inside the key: Effect's schema runner lets it escape, wrapped
      // in its own error ("Result adapter ..."); the user's error is its cause.
      const wrapped = error instanceof Error && error.cause !== undefined ? error.cause : error
      const original = Cause.isCause(wrapped) ? Cause.squash(wrapped) : wrapped
      throw invalid(
        `the key could not be read: ${original instanceof Error ? original.message : String(original)}`,
      )
    }
    if (Result.isFailure(encoded))
      throw invalid(`the key does not match the key schema: ${encoded.failure.message}`)
    try {
      return KeyEncoding.storeKey(id, hashTagOf(key), encodeBody(encoded.success))
    } catch (error) {
      throw invalid(
        error instanceof KeyEncoding.KeyEncodingError
          ? error.message
          : `the key could not be encoded: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  }
  // When the key schema has no transformation, a key is its own encoded form: a lookup can encode it
  // without running the schema. A key that fails the schema then yields a string no valid key has
  // (the encoding is injective), so it can only miss; the miss path validates and reports it.
  const untransformed = SchemaAST.toEncoded(options.key.ast) === options.key.ast
  const encodeLookup = (key: K): string | undefined => {
    try {
      return KeyEncoding.storeKey(id, hashTagOf(key), encodeBody(key))
    } catch {
      return undefined
    }
  }
  // Scalar keys (`"user:42"`, `42`) are remembered with their encoding: a hit then costs one Map read of the
  // key, instead of encoding it (NFC, escaping) and hashing a new string every time. Bounded: forgotten in full
  // past LOOKUP_MEMO entries. Struct keys are fresh objects per call, so their compiled encoder runs instead.
  const memo = new Map<unknown, string | undefined>()
  const isScalarKey = untransformed ? Schema.is(options.key as Schema.Codec<K, unknown>) : undefined
  const lookupKey = untransformed
    ? (key: K): string | undefined => {
        if (typeof key !== "string" && typeof key !== "number") return encodeLookup(key)
        let found = memo.get(key)
        if (found === undefined && !memo.has(key)) {
          if (memo.size >= LOOKUP_MEMO) memo.clear()
          found = encodeLookup(key)
          memo.set(key, found)
        }
        return found
      }
    : (): undefined => undefined
  return {
    [TypeId]: TypeId,
    name,
    version,
    id,
    kind,
    keySchema: options.key,
    valueSchema: options.value,
    ttlMillis,
    staleForMillis,
    tags: options.tags,
    earlyRefresh,
    storeKey,
    lookupKey,
  }
}

/**
 * Declares a keyspace. Throws `InvalidKeyspace` for a bad name, version or
 * duration, so a wrong declaration fails when its module loads.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Keyspace } from "@strata/core"
 *
 * const UserProfile = Schema.Struct({ name: Schema.String, plan: Schema.Literals(["free", "pro"]) })
 *
 * export const Profiles = Keyspace.make({
 *   name: "user.profile",
 *   key: Schema.Struct({ userId: Schema.Int }),
 *   value: UserProfile,
 *   ttl: "1 hour",
 *   staleFor: "1 day",
 *   tags: ({ userId }) => [`user:${userId}`],
 *   version: 2,
 * })
 * // storage key of { userId: 42 }: "user.profile:v2:userId=42"
 * ```
 */
export const make = <KS extends AnySchema, VS extends AnySchema>(
  options: Options<KS, VS>,
): Keyspace<KS["Type"], VS["Type"]> => build("entry", options as unknown as Options<AnySchema, AnySchema>)

/** The options of {@link counter}: a keyspace whose values are integers changed by `increment`. */
export interface CounterOptions<KS extends AnySchema> {
  readonly name: string
  readonly key: KS
  /** Lifetime of a counter, set when it is created and not extended by later increments. */
  readonly ttl: Duration.Input
  readonly version?: number | undefined
  readonly hashTag?: "keyspace" | ((key: KS["Type"]) => string | number) | undefined
}

/**
 * Declares a keyspace of atomic counters. `cache.increment(counter, key, by)`
 * adds to a counter in one atomic step on the authoritative tier, creating it
 * with the keyspace's TTL; `cache.get` reads it. Counters are stored as
 * decimal text so a Redis tier can use `INCRBY` natively.
 *
 * @example
 * ```ts
 * const PageViews = Keyspace.counter({ name: "page.views", key: Schema.String, ttl: "1 day" })
 * yield* cache.increment(PageViews, "/home")
 * ```
 */
export const counter = <KS extends AnySchema>(options: CounterOptions<KS>): Counter<KS["Type"]> =>
  build("counter", { ...(options as unknown as CounterOptions<AnySchema>), value: Schema.Int }) as Counter<
    KS["Type"]
  >

/** Whether a value is a keyspace made by {@link make} or {@link counter}. */
export const isKeyspace = (u: unknown): u is Keyspace<unknown, unknown> => {
  try {
    return typeof u === "object" && u !== null && TypeId in u
  } catch {
    // A proxy whose traps throw is not a keyspace.
    return false
  }
}
