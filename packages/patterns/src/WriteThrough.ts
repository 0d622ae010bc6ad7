/**
 * Write-through: a change is written to the source of truth first (the
 * user's write, such as a database transaction), then to the cache, so that
 * reads right after it find the new record without a load.
 *
 * The order of cache writes is not the order of source writes: a slow update
 * can reach the cache after a faster, newer one. So every cached record
 * carries its **source version** (a row version, a revision counter: higher
 * is newer), and the cache write is core's atomic `update` keeping the
 * record with the higher version: the newer source version wins whatever
 * order the cache writes arrive in, in one process or many.
 *
 * - A write that fails (throws, rejects, rolls back) leaves the cache
 *   untouched: nothing is written before it succeeds.
 * - Other representations of the record (`views`: a summary, a list row)
 *   are written the same way, each with its own version; `related` keys are
 *   deleted and `tags` invalidated after the record is written.
 * - When the cache cannot be written after the source was (a store failure,
 *   a record failing the value schema, repeated conflicts), the record's key
 *   is deleted (a delete is never stale) and the error is returned: the
 *   source holds the change, the cache does not hold an older one.
 * - Known limit: a record evicted (or expired) between two racing writes is
 *   written by whichever arrives later, since the cache no longer knows the
 *   newer version; the keyspace's TTL bounds how long that lasts.
 *
 * @since 0.1.0
 */
import type { Cache, Keyspace } from "@strata/core"
import { InvalidArgument } from "@strata/core"
import { Effect } from "effect"

/** Another cached representation of a record, written with it: `from(record)` under `key(id)`. */
export interface View<K, V, K2, V2> {
  readonly keyspace: Keyspace.Keyspace<K2, V2>
  readonly key: (id: K) => K2
  readonly from: (record: V) => V2
  /** The source version of a view value (usually the record's, copied into the view). */
  readonly version: (value: V2) => number
}

/** Declares a {@link View}; typed by its keyspace. */
export const view = <K, V, K2, V2>(
  keyspace: Keyspace.Keyspace<K2, V2>,
  options: Omit<View<K, V, K2, V2>, "keyspace">,
): View<K, V, K2, V2> => ({ keyspace, ...options })

/** A cached key to delete after a write: `WriteThrough.key(keyspace, key)`. */
export interface KeyRef {
  readonly keyspace: Keyspace.Keyspace<any, any>
  readonly key: unknown
}

/** A typed {@link KeyRef}. */
export const key = <K, V>(keyspace: Keyspace.Keyspace<K, V>, key: NoInfer<K>): KeyRef => ({ keyspace, key })

/** What else a write changes: cached keys to delete and tags to invalidate. */
export interface Related {
  readonly keys?: ReadonlyArray<KeyRef> | undefined
  readonly tags?: ReadonlyArray<string> | undefined
}

/** The options of a write-through. */
export interface Options<K, V> {
  /**
   * The source version of a record: a finite number, higher is newer (a row
   * version column, a revision counter). Without it, a write deletes the
   * cached record instead of writing it (always safe, costs a load).
   */
  readonly version?: ((record: V) => number) | undefined
  /** Other representations written with the record. */
  readonly views?: ReadonlyArray<View<K, V, any, any>> | undefined
  /** Cached keys and tags that depend on the record, dropped after each write. */
  readonly related?: ((id: K, record: V) => Related) | undefined
}

/** What a write-through can fail with besides the write's own errors (after the source was written). */
export type CacheError = Cache.UpdateError

const versionOf = <V>(keyspace: Keyspace.Keyspace<any, V>, version: (value: V) => number, value: V) => {
  const v = version(value)
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new InvalidArgument({
      argument: "version",
      message: `the version of a record of keyspace "${keyspace.id}" must be a finite number, got ${String(v)}`,
    })
  return v
}

/** Writes `value` under `key` unless the cache holds a newer version; on any failure, deletes the key. */
const writeNewest = <K, V>(
  cache: Cache.Service,
  keyspace: Keyspace.Keyspace<K, V>,
  id: K,
  value: V,
  version: ((value: V) => number) | undefined,
): Effect.Effect<void, CacheError> => {
  if (version === undefined) return cache.delete(keyspace, id)
  return Effect.suspend(() => {
    let incoming: number
    try {
      incoming = versionOf(keyspace, version, value)
    } catch (error) {
      return Effect.fail(error as InvalidArgument)
    }
    // Returning `current` itself writes nothing: an older write arriving late leaves the newer record.
    return cache.update(keyspace, id, (current) =>
      current !== undefined && versionOf(keyspace, version, current) >= incoming ? current : value,
    )
  }).pipe(
    Effect.asVoid,
    Effect.catch((error) =>
      cache.delete(keyspace, id).pipe(Effect.ignore, Effect.andThen(Effect.fail(error))),
    ),
  )
}

/**
 * Runs `write` against the source of truth, then writes its record (and its
 * views) to the cache keeping the newest source version, then drops the
 * related keys and tags. Returns the record. Fails with the write's own
 * error (the cache untouched) or, after the source was written, with a
 * {@link CacheError}.
 *
 * @example
 * ```ts
 * const saved = yield* WriteThrough.write(cache, Products, 7, db.renameProduct(7, "Green tea"), {
 *   version: (p) => p.version,
 *   related: (id, p) => ({ tags: [`category:${p.categoryId}`] }),
 * })
 * ```
 */
export const write = <K, V, E, R>(
  cache: Cache.Service,
  keyspace: Keyspace.Keyspace<K, V>,
  id: K,
  write: Effect.Effect<V, E, R>,
  options: Options<K, V>,
): Effect.Effect<V, E | CacheError, R> =>
  Effect.gen(function* () {
    const record = yield* write
    yield* writeNewest(cache, keyspace, id, record, options.version)
    const views = options.views ?? []
    yield* Effect.forEach(
      views,
      (v) => Effect.suspend(() => writeNewest(cache, v.keyspace, v.key(id), v.from(record), v.version)),
      { concurrency: "unbounded", discard: true },
    )
    if (options.related !== undefined) {
      const related = options.related(id, record)
      yield* Effect.forEach(related.keys ?? [], (ref) => cache.delete(ref.keyspace, ref.key), {
        concurrency: "unbounded",
        discard: true,
      })
      yield* Effect.forEach(related.tags ?? [], (tag) => cache.invalidateTag(tag), {
        concurrency: "unbounded",
        discard: true,
      })
    }
    return record
  })
