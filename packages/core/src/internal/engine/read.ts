/**
 * The read path, top to bottom:
 *
 * 1. L1 fresh hit → return, synchronously (no generator, no extra effect).
 *    The key is encoded without its schema when the schema has no
 *    transformation (`Keyspace.lookupKey`): an invalid key can only miss, and
 *    the miss path validates it.
 * 2. `get`/`getMany`: take a fill ticket, read L2, fill L1 if the ticket
 *    still holds. A failing or slow shared tier is a miss (reported as a
 *    `StoreFailed` event and counted), unless `l2ReadErrors: "fail"`.
 * 3. `getOrSet`: join or start the key's flight (see `load`).
 *
 * `get`, `getOrSet`, `peekUnsafe` and `getUnsafe` each inline the same L1 check on
 * purpose: a shared helper returning "value or miss" measured 10-25% slower
 * on the L1 hit benchmarks (W1/W2).
 */
import { Effect, Option } from "effect"
import type { Loader, LoadOptions } from "../../Cache.ts"
import { InvalidArgument, type InvalidKey, type StoreError, StoreUnavailable, Timeout } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import type { FillGuard, Ticket } from "../fillGuard.ts"
import type { Config } from "./config.ts"
import { readBatch, storeKeyOrError, tagsOf } from "./inputs.ts"
import { type L1View, MISS } from "./l1View.ts"
import type { Loads } from "./load.ts"
import type { SharedTier } from "./sharedTier.ts"
import type { Telemetry } from "./telemetry.ts"

const isStoreError = (error: unknown): error is StoreError =>
  error instanceof StoreUnavailable || error instanceof Timeout

/** Builds the read path. */
export const make = (
  config: Config,
  l1: L1View,
  l2: SharedTier,
  guard: FillGuard,
  telemetry: Telemetry,
  wallNow: () => number,
  { load, refresh }: Pick<Loads, "load" | "refresh">,
) => {
  const { counts } = telemetry
  const store = l2.store
  const fresh = l1.fresh

  /** A store failure on a read: a miss, reported, unless the cache was asked to fail. */
  const onReadError =
    <A>(keyspace: Keyspace<any, any>, operation: string, miss: A) =>
    (error: StoreError): Effect.Effect<A, StoreError> =>
      config.l2ReadErrors === "fail" ? Effect.fail(error) : l2.recover(keyspace, operation, miss)(error)

  /** Takes a fill ticket for each key, ended however `f` ends. */
  const withTickets = <A, E>(
    keyspace: Keyspace<any, any>,
    keys: ReadonlyArray<unknown>,
    storeKeys: ReadonlyArray<string>,
    f: (tickets: ReadonlyArray<Ticket>) => Effect.Effect<A, E>,
  ): Effect.Effect<A, E | InvalidKey> =>
    Effect.suspend((): Effect.Effect<A, E | InvalidKey> => {
      const tickets: Array<Ticket> = []
      try {
        for (let i = 0; i < keys.length; i++)
          tickets.push(guard.begin(keyspace.id, storeKeys[i]!, tagsOf(keyspace, keys[i])))
      } catch (error) {
        for (const ticket of tickets) guard.end(ticket)
        return Effect.fail(error as InvalidKey)
      }
      return Effect.ensuring(
        f(tickets),
        Effect.sync(() => {
          for (const ticket of tickets) guard.end(ticket)
        }),
      )
    })

  const readL2 = <K, V>(keyspace: Keyspace<K, V>, key: K, storeKey: string) =>
    withTickets(keyspace, [key], [storeKey], ([ticket]) => l2.readThrough(keyspace, storeKey, ticket!)).pipe(
      Effect.map((found): Option.Option<V> => {
        if (found.fresh === MISS) {
          counts.misses++
          return Option.none()
        }
        return Option.some(found.fresh as V)
      }),
      Effect.catchTag(["StoreUnavailable", "Timeout"], (error) =>
        Effect.map(onReadError(keyspace, "get", Option.none<V>())(error), (miss) => {
          counts.misses++
          return miss
        }),
      ),
    )

  const get = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
  ): Effect.Effect<Option.Option<V>, InvalidKey | StoreError> =>
    Effect.suspend((): Effect.Effect<Option.Option<V>, InvalidKey | StoreError> => {
      const lookup = l1.uses(keyspace) ? keyspace.lookupKey(key) : undefined
      if (lookup !== undefined) {
        const hit = fresh(keyspace.id, lookup)
        if (hit !== MISS) return Effect.succeed(Option.some(hit as V))
      }
      const storeKey = storeKeyOrError(keyspace, key)
      if (typeof storeKey !== "string") return Effect.fail(storeKey)
      if (lookup === undefined && l1.uses(keyspace)) {
        const hit = fresh(keyspace.id, storeKey)
        if (hit !== MISS) return Effect.succeed(Option.some(hit as V))
      }
      if (store === undefined) {
        counts.misses++
        return Effect.succeed(Option.none())
      }
      return readL2(keyspace, key, storeKey)
    })

  const getMany = <K, V>(keyspace: Keyspace<K, V>, keys: ReadonlyArray<K>) =>
    Effect.gen(function* () {
      const batch = readBatch<K>(keys, "getMany.keys", "getMany takes an array of keys")
      if (batch instanceof InvalidArgument) return yield* batch
      keys = batch
      // Checked in a plain loop: an effect per key costs a batch of 100 a tenth of its time.
      const storeKeys: Array<string> = []
      for (const key of keys) {
        const storeKey = storeKeyOrError(keyspace, key)
        if (typeof storeKey !== "string") return yield* storeKey
        storeKeys.push(storeKey)
      }
      const results: Array<Option.Option<V>> = new Array(keys.length)
      const missing: Array<number> = []
      for (let i = 0; i < storeKeys.length; i++) {
        const hit = l1.uses(keyspace) ? fresh(keyspace.id, storeKeys[i]!) : MISS
        if (hit === MISS) missing.push(i)
        else results[i] = Option.some(hit as V)
      }
      if (missing.length > 0 && store !== undefined) {
        const missingKeys = missing.map((i) => storeKeys[i]!)
        yield* withTickets(
          keyspace,
          missing.map((i) => keys[i]),
          missingKeys,
          (tickets) =>
            Effect.gen(function* () {
              const stored = yield* l2.via("getMany", store.getMany(keyspace.id, missingKeys))
              for (let m = 0; m < missing.length; m++) {
                const i = missing[m]!
                const bytes = stored[m]
                const accepted = l2.accept(keyspace, storeKeys[i]!, bytes)
                const entry = Effect.isEffect(accepted) ? yield* accepted : accepted
                if (entry === undefined) continue
                const value = l1.fill(
                  keyspace,
                  storeKeys[i]!,
                  entry.value,
                  bytes!,
                  entry.freshUntil,
                  entry.staleUntil,
                  entry.tagVersions,
                  tickets[m],
                )
                if (entry.freshUntil > wallNow()) {
                  counts.hitsL2++
                  results[i] = Option.some(value as V)
                }
              }
            }),
        ).pipe(Effect.catchTag(["StoreUnavailable", "Timeout"], onReadError(keyspace, "getMany", undefined)))
      }
      for (let i = 0; i < results.length; i++) {
        if (results[i] === undefined) {
          counts.misses++
          results[i] = Option.none()
        }
      }
      return results as ReadonlyArray<Option.Option<V>>
    })

  /**
   * An L1 hit of `getOrSet`; with `earlyRefresh` (XFetch, VLDB 2015), a
   * background reload when `δ·β·(−ln U)` reaches the time the copy has left.
   */
  const hitOf = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: LoadOptions | undefined,
    hit: V,
  ): Effect.Effect<V, never, R> => {
    if (keyspace.earlyRefresh === 0) return Effect.succeed(hit)
    const delta = telemetry.loaderMillis(keyspace.id)
    const left = l1.freshFor(keyspace.id, storeKey)
    // 1 - random() is in (0, 1]: its logarithm is finite.
    if (
      delta === undefined ||
      left === undefined ||
      delta * keyspace.earlyRefresh * -Math.log(1 - Math.random()) < left
    )
      return Effect.succeed(hit)
    return Effect.as(refresh(keyspace, key, storeKey, loader, options, left), hit)
  }

  const getOrSet = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    loader: Loader<K, V, E, R>,
    options?: LoadOptions,
  ) =>
    Effect.suspend(() => {
      const lookup = l1.uses(keyspace) ? keyspace.lookupKey(key) : undefined
      if (lookup !== undefined) {
        const hit = fresh(keyspace.id, lookup)
        if (hit !== MISS) return hitOf(keyspace, key, lookup, loader, options, hit as V)
      }
      const storeKey = storeKeyOrError(keyspace, key)
      if (typeof storeKey !== "string") return Effect.fail(storeKey)
      if (lookup === undefined && l1.uses(keyspace)) {
        const hit = fresh(keyspace.id, storeKey)
        if (hit !== MISS) return hitOf(keyspace, key, storeKey, loader, options, hit as V)
      }
      return load(keyspace, key, storeKey, loader, options)
    })

  const peekUnsafe = <K, V>(keyspace: Keyspace<K, V>, key: K): V | undefined => {
    const lookup = l1.uses(keyspace) ? keyspace.lookupKey(key) : undefined
    if (lookup !== undefined) {
      const hit = fresh(keyspace.id, lookup)
      if (hit !== MISS) return hit as V
    }
    // A miss: validate the key (throws InvalidKey), then look up what validation produced if the lookup could not.
    const storeKey = storeKeyOrError(keyspace, key)
    if (typeof storeKey !== "string") throw storeKey
    if (lookup !== undefined || !l1.uses(keyspace)) return undefined
    const hit = fresh(keyspace.id, storeKey)
    return hit === MISS ? undefined : (hit as V)
  }

  /**
   * The facade's `get` (see `CacheService.getUnsafe`): the L1 hit itself, a
   * Promise of the L2 read, or `undefined` when the effect path must answer.
   * The key is encoded once for both tiers.
   */
  const getUnsafe = <K, V>(keyspace: Keyspace<K, V>, key: K): V | Promise<V | undefined> | undefined => {
    const lookup = l1.uses(keyspace) ? keyspace.lookupKey(key) : undefined
    if (lookup !== undefined) {
      const hit = fresh(keyspace.id, lookup)
      if (hit !== MISS) return hit as V
    }
    const storeKey = storeKeyOrError(keyspace, key)
    if (typeof storeKey !== "string") throw storeKey
    if (lookup === undefined && l1.uses(keyspace)) {
      const hit = fresh(keyspace.id, storeKey)
      if (hit !== MISS) return hit as V
    }
    return readPromise<K, V>(keyspace, key, storeKey)
  }

  /** The L2 read of `get` on Promises, or `undefined` where the shared tier has no Promise path. */
  const readPromise = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
  ): Promise<V | undefined> | undefined => {
    const readThrough = l2.readThroughPromise
    if (readThrough === undefined) return undefined
    let ticket: Ticket
    try {
      ticket = guard.begin(keyspace.id, storeKey, tagsOf(keyspace, key))
    } catch {
      return undefined
    }
    return readThrough(keyspace, storeKey, ticket).then(
      (found) => {
        guard.end(ticket)
        if (found.fresh !== MISS) return found.fresh as V
        counts.misses++
        return undefined
      },
      (error: StoreError) => {
        guard.end(ticket)
        // Only the store's own failures are read as a miss; anything else is the caller's to see.
        if (config.l2ReadErrors === "fail" || !isStoreError(error)) throw error
        Effect.runSync(l2.recover(keyspace, "get", undefined)(error))
        counts.misses++
        return undefined
      },
    )
  }

  return { get, getMany, getOrSet, peekUnsafe, getUnsafe }
}
