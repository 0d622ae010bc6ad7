/**
 * Error-tolerant cache-aside writes: the cache is an optimisation, so a
 * cache that is down must not fail the request that writes to it. Core's
 * reads already answer a miss when the shared tier fails (a `StoreFailed`
 * event, `l2ReadErrors: "miss"`); these are the writes to match.
 *
 * `set`, `setMany`, `delete` and `invalidateTag` here run core's own
 * operations; when one fails because a store failed (`StoreUnavailable`,
 * `Timeout`), the failure is handed to `onStoreError` as a `StoreFailed`
 * event (core's own event type, so one logger takes both) and the call
 * succeeds with `false` ("not written"). Bad input is not a cache outage:
 * `InvalidKey`, `InvalidValue`, `EntryTooLarge`, `InvalidDuration` and
 * `InvalidArgument` still fail the call, before any I/O.
 *
 * What a tolerated failure means: after a failed `set` this process's L1
 * holds no copy (core drops it whatever the outcome), so reads go to the
 * source. After a failed `delete` or `invalidateTag` the shared tier may
 * still hold the old entry when it comes back, until its TTL: keep TTLs short
 * where stale data after an outage matters.
 *
 * @since 0.1.0
 */
import type {
  Cache,
  EntryTooLarge,
  InvalidArgument,
  InvalidDuration,
  InvalidKey,
  Keyspace,
  StoreError,
  StoreFailed,
  StrataCache,
} from "@strata/core"
import { Cache as CacheService, InvalidValue } from "@strata/core"
import { Effect, Result, Schema } from "effect"
import { run } from "./internal/promise.ts"

/** The options of {@link make} and {@link createCacheAside}. */
export interface Options {
  /**
   * Receives every store failure a write tolerated, as core's `StoreFailed`
   * event (`keyspace`: the keyspace id, or `"*"` for a tag; `operation`:
   * `"set"`, `"setMany"`, `"delete"` or `"invalidateTag"`). Required: a
   * tolerated failure is reported, never dropped. It must not throw.
   */
  readonly onStoreError: (event: StoreFailed) => void
}

/** What a tolerant write still fails with: bad input, found before any I/O. */
export type InputError = InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | InvalidArgument

/** Cache-aside writes that never fail on a store outage; each answers whether it was applied. */
export interface CacheAside {
  readonly set: <K, V>(
    keyspace: Keyspace.Keyspace<K, V>,
    key: NoInfer<K>,
    value: NoInfer<V>,
    options?: Cache.WriteOptions,
  ) => Effect.Effect<boolean, InputError>
  readonly setMany: <K, V>(
    keyspace: Keyspace.Keyspace<K, V>,
    entries: ReadonlyArray<readonly [NoInfer<K>, NoInfer<V>]>,
    options?: Cache.WriteOptions,
  ) => Effect.Effect<boolean, InputError>
  readonly delete: <K, V>(
    keyspace: Keyspace.Keyspace<K, V>,
    key: NoInfer<K>,
  ) => Effect.Effect<boolean, InvalidKey>
  readonly invalidateTag: (tag: string) => Effect.Effect<boolean, InvalidArgument>
}

const isStoreError = (error: unknown): error is StoreError => {
  const tag = (error as { _tag?: unknown })._tag
  return tag === "StoreUnavailable" || tag === "Timeout"
}

/** Tolerant writes over a cache service. */
export const makeWith = (cache: Cache.Service, options: Options): CacheAside => {
  const { onStoreError } = options
  const tolerate =
    (keyspace: string, operation: string) =>
    <E>(effect: Effect.Effect<void, E>): Effect.Effect<boolean, Exclude<E, StoreError>> =>
      effect.pipe(
        Effect.as(true),
        Effect.catch((error): Effect.Effect<boolean, Exclude<E, StoreError>> => {
          if (!isStoreError(error)) return Effect.fail(error as Exclude<E, StoreError>)
          return Effect.sync(() => {
            onStoreError({ _tag: "StoreFailed", keyspace, operation, error })
            return false
          })
        }),
      )
  /**
   * Core reads a tagged keyspace's tag versions from L2 before it encodes the value, so with L2 down a bad
   * value fails as a store error: on that path the values are checked, and a bad one is `InvalidValue`.
   */
  const badInputFirst = <K, V, E>(
    keyspace: Keyspace.Keyspace<K, V>,
    values: ReadonlyArray<V>,
    effect: Effect.Effect<void, E>,
  ): Effect.Effect<void, E | InvalidValue> =>
    Effect.catch(effect, (error): Effect.Effect<void, E | InvalidValue> => {
      if (isStoreError(error)) {
        const encode = Schema.encodeUnknownResult(keyspace.valueSchema)
        for (const value of values) {
          const result = encode(value)
          if (Result.isFailure(result))
            return Effect.fail(
              new InvalidValue({
                keyspace: keyspace.id,
                message: `the value does not match the value schema: ${result.failure.message}`,
              }),
            )
        }
      }
      return Effect.fail(error)
    })
  return {
    set: (keyspace, key, value, writeOptions) =>
      tolerate(
        keyspace.id,
        "set",
      )(badInputFirst(keyspace, [value], cache.set(keyspace, key, value, writeOptions))),
    setMany: (keyspace, entries, writeOptions) =>
      tolerate(
        keyspace.id,
        "setMany",
      )(
        badInputFirst(
          keyspace,
          entries.map(([, value]) => value),
          cache.setMany(keyspace, entries, writeOptions),
        ),
      ),
    delete: (keyspace, key) => tolerate(keyspace.id, "delete")(cache.delete(keyspace, key)),
    invalidateTag: (tag) => tolerate("*", "invalidateTag")(cache.invalidateTag(tag)),
  }
}

/**
 * Tolerant writes over the `Cache` service.
 *
 * @example
 * ```ts
 * const aside = yield* CacheAside.make({ onStoreError: (event) => logger.warn(event) })
 * yield* db.saveProfile(profile)
 * yield* aside.set(Profiles, { userId }, profile) // false when Redis is down; the request goes on
 * ```
 */
export const make = (options: Options): Effect.Effect<CacheAside, never, CacheService.Cache> =>
  Effect.gen(function* () {
    return makeWith(yield* CacheService.Cache, options)
  })

/** Tolerant writes with a Promise API: each resolves `true` (applied) or `false` (a store failed, reported). */
export interface CacheAsideClient {
  set<K, V>(
    keyspace: Keyspace.Keyspace<K, V>,
    key: NoInfer<K>,
    value: NoInfer<V>,
    options?: Cache.WriteOptions,
  ): Promise<boolean>
  setMany<K, V>(
    keyspace: Keyspace.Keyspace<K, V>,
    entries: ReadonlyArray<readonly [NoInfer<K>, NoInfer<V>]>,
    options?: Cache.WriteOptions,
  ): Promise<boolean>
  delete<K, V>(keyspace: Keyspace.Keyspace<K, V>, key: NoInfer<K>): Promise<boolean>
  invalidateTag(tag: string): Promise<boolean>
}

/**
 * The Promise form of {@link make}, over a cache from `createCache`.
 *
 * @example
 * ```ts
 * const aside = createCacheAside(cache, { onStoreError: (event) => console.warn(event.operation, event.error.message) })
 * await db.saveProfile(profile)
 * await aside.set(Profiles, { userId }, profile) // never rejects because Redis is down
 * ```
 */
export const createCacheAside = (cache: StrataCache, options: Options): CacheAsideClient => {
  const effect = makeWith(cache.service, options)
  return {
    set: (keyspace, key, value, writeOptions) => run(effect.set(keyspace, key, value, writeOptions)),
    setMany: (keyspace, entries, writeOptions) => run(effect.setMany(keyspace, entries, writeOptions)),
    delete: (keyspace, key) => run(effect.delete(keyspace, key)),
    invalidateTag: (tag) => run(effect.invalidateTag(tag)),
  }
}
