/**
 * The checks every call's inputs go through before any I/O: the key (its
 * schema and encoding, read defensively: a getter or proxy that throws is an
 * `InvalidKey`, not a crash), the keyspace's tags, and per-call options (one
 * lifetime rule for keyspaces and calls).
 */
import { Effect } from "effect"
import type { WriteOptions } from "../../Cache.ts"
import { InvalidArgument, type InvalidDuration, InvalidKey } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import { lifetime } from "../duration.ts"

/** The storage key of `key`, or the `InvalidKey` it fails with (synchronous: used on the hit path's miss). */
export const storeKeyOrError = <K>(keyspace: Keyspace<K, any>, key: K): string | InvalidKey => {
  try {
    return keyspace.storeKey(key)
  } catch (error) {
    return error instanceof InvalidKey
      ? error
      : new InvalidKey({ keyspace: keyspace.id, message: `the key could not be read: ${String(error)}` })
  }
}

/** `storeKeyOrError` as an effect. */
export const storeKeyOf = <K>(keyspace: Keyspace<K, any>, key: K): Effect.Effect<string, InvalidKey> =>
  Effect.suspend(() => {
    const storeKey = storeKeyOrError(keyspace, key)
    return typeof storeKey === "string" ? Effect.succeed(storeKey) : Effect.fail(storeKey)
  })

/** The tags of `key`, or `InvalidKey` when the keyspace's `tags` function throws or returns non-strings. */
/** A high surrogate without its low half, or a low one without its high half: text with no UTF-8 form. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Whether `text` holds a lone surrogate (`String.prototype.isWellFormed` is ES2024). */
export const hasLoneSurrogate = (text: string): boolean => LONE_SURROGATE.test(text)

export const tagsOf = <K>(keyspace: Keyspace<K, any>, key: K): ReadonlyArray<string> | undefined => {
  if (keyspace.tags === undefined) return undefined
  let tags: unknown
  try {
    tags = keyspace.tags(key)
  } catch (error) {
    throw new InvalidKey({
      keyspace: keyspace.id,
      message: `the keyspace's tags function threw: ${String(error)}`,
    })
  }
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== "string"))
    throw new InvalidKey({
      keyspace: keyspace.id,
      message: "the keyspace's tags function must return strings",
    })
  // A lone surrogate has no UTF-8 form: two different tags would share one stored tag version.
  if (tags.some(hasLoneSurrogate))
    throw new InvalidKey({
      keyspace: keyspace.id,
      message: "a tag holds a lone surrogate (not valid Unicode text)",
    })
  return tags
}

/** The per-call options of a write (`set`, `setMany`, `update`). */
export const WRITE_OPTIONS: ReadonlyArray<string> = ["ttl", "staleFor"]

/** The per-call options of a load (`getOrSet`, `getOrSetMany`). */
export const LOAD_OPTIONS: ReadonlyArray<string> = ["ttl", "staleFor", "softTimeout", "hardTimeout"]

/**
 * The lifetime of an entry written with `options`: the keyspace's, or the
 * overrides (one rule for both). `allowed`: the option names this call
 * takes; any other is `InvalidArgument` (a misspelt `tll` must not quietly
 * keep the keyspace's TTL).
 */
export const lifetimeOf = (
  keyspace: Keyspace<any, any>,
  options: WriteOptions | undefined,
  allowed: ReadonlyArray<string> = WRITE_OPTIONS,
): Effect.Effect<{ readonly ttl: number; readonly staleFor: number }, InvalidDuration | InvalidArgument> =>
  options === undefined
    ? Effect.succeed({ ttl: keyspace.ttlMillis, staleFor: keyspace.staleForMillis })
    : Effect.try({
        try: () => {
          const { ttl, staleFor } = readOptions(options, ["ttl", "staleFor"], allowed)
          return ttl === undefined && staleFor === undefined
            ? { ttl: keyspace.ttlMillis, staleFor: keyspace.staleForMillis }
            : lifetime(
                ttl === undefined ? keyspace.ttlMillis : (ttl as never),
                staleFor === undefined ? keyspace.staleForMillis : (staleFor as never),
                `${keyspace.id}: per-call options`,
              )
        },
        catch: (error) => error as InvalidDuration | InvalidArgument,
      })

/**
 * Copies the named fields of a per-call options object, or throws
 * `InvalidArgument` when it is not an object, cannot be read (a proxy or
 * getter that throws), or has a field `allowed` does not name: options are
 * read once, before any I/O.
 */
export const readOptions = <N extends string>(
  options: unknown,
  names: ReadonlyArray<N>,
  allowed: ReadonlyArray<string> = names,
): { readonly [K in N]: unknown } => {
  if (typeof options !== "object" || options === null)
    throw new InvalidArgument({
      argument: "options",
      message: `per-call options must be an object, got ${options === null ? "null" : typeof options}`,
    })
  const out = {} as Record<N, unknown>
  let unknown: string | undefined
  try {
    for (const name of names) out[name] = (options as Record<string, unknown>)[name]
    unknown = Object.keys(options).find((name) => !allowed.includes(name))
  } catch (error) {
    throw new InvalidArgument({
      argument: "options",
      message: `the per-call options could not be read: ${String(error)}`,
    })
  }
  if (unknown !== undefined)
    throw new InvalidArgument({
      argument: "options",
      message: `unknown per-call option ${JSON.stringify(unknown)}; this call takes ${allowed.join(", ")}`,
    })
  return out
}

/**
 * A batch argument copied into an array of ours, or `InvalidArgument` when
 * it is not an array or cannot be read (an element getter or a proxy that
 * throws): read once, before any I/O, so a hostile batch is a typed error.
 */
export const readBatch = <T>(
  items: unknown,
  argument: string,
  expected: string,
): ReadonlyArray<T> | InvalidArgument => {
  if (!Array.isArray(items)) return new InvalidArgument({ argument, message: expected })
  try {
    const copy: Array<T> = []
    for (let i = 0; i < items.length; i++) copy.push(items[i] as T)
    return copy
  } catch (error) {
    return new InvalidArgument({ argument, message: `the batch could not be read: ${readFailure(error)}` })
  }
}

/** What a thrown value says, without throwing again (an object without a string form). */
const readFailure = (error: unknown): string => {
  if (error instanceof Error) return error.message
  try {
    return String(error)
  } catch {
    return typeof error
  }
}
