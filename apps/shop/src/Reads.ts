/**
 * The shop's loaders and its metering of reads made through the pattern
 * APIs. A loader counts its call and marks its keys in flight (see
 * `Meters.Flights`); a read is always made through its pattern, and where
 * it was answered is found by a `peek` of L1 just before it (the synchronous
 * L1 read the Promise facade itself makes first) and, on a miss, by the
 * loads that ran here while it waited.
 */
import { type Keyspace, LoaderFailed } from "@strata/core"
import type { Repository } from "@strata/patterns"
import { Effect, Option } from "effect"
import type { ShopContext } from "./Context.ts"
import { countRead, type Meter, type ReadStart } from "./Meters.ts"

/**
 * A loader for a pattern: `load` (SQL, through `Catalog`) as an effect,
 * counted as one loader call of the route and of `keyspace`, its keys marked
 * in flight while it runs. What it throws fails it with `LoaderFailed`.
 */
export const loader = <A>(
  meter: Meter,
  keyspace: Keyspace.Keyspace<any, any>,
  storeKeys: ReadonlyArray<string>,
  load: () => Promise<A>,
): Effect.Effect<A, LoaderFailed> =>
  Effect.tryPromise({
    try: () => {
      meter.route.loads++
      meter.keyspace(keyspace.name).loads++
      return meter.flights(keyspace.name).track(storeKeys, load)
    },
    catch: (cause) => new LoaderFailed({ keyspace: keyspace.id, cause }),
  })

/**
 * Runs `read`, a pattern's read of `key` in `keyspace`, and counts where it
 * was answered, on the route and the keyspace (on the keyspace only when
 * `keyspaceOnly`).
 */
export const metered = async <K, A>(
  shop: ShopContext,
  meter: Meter,
  keyspace: Keyspace.Keyspace<K, any>,
  key: K,
  read: () => Promise<A>,
  keyspaceOnly = false,
): Promise<A> => {
  if (shop.cache.service.peekUnsafe(keyspace, key) !== undefined) {
    const value = await read()
    countRead(meter, keyspace.name, "l1", keyspaceOnly)
    return value
  }
  const storeKey = keyspace.storeKey(key)
  const flights = meter.flights(keyspace.name)
  const start = flights.start(storeKey)
  const value = await read()
  countRead(meter, keyspace.name, flights.settle(storeKey, start), keyspaceOnly)
  return value
}

/**
 * `repository` with a `getMany` that counts each key's read on the
 * keyspace only (a listing's own hit is that of its list), and answers at
 * once when every key is in L1.
 */
export const meteredMany = <K, V, E>(
  shop: ShopContext,
  meter: Meter,
  repository: Repository.Repository<K, V, E>,
): Repository.Repository<K, V, E> => {
  const { keyspace } = repository
  const flights = meter.flights(keyspace.name)
  return {
    ...repository,
    getMany: (ids) =>
      Effect.suspend(() => {
        const hits = ids.map((id) => shop.cache.service.peekUnsafe(keyspace, id))
        const misses: Array<readonly [string, ReadStart]> = []
        hits.forEach((hit, i) => {
          if (hit !== undefined) countRead(meter, keyspace.name, "l1", true)
          else {
            const storeKey = keyspace.storeKey(ids[i]!)
            misses.push([storeKey, flights.start(storeKey)])
          }
        })
        if (misses.length === 0) return Effect.succeed(hits.map((hit) => Option.some(hit as V)))
        return Effect.tap(repository.getMany(ids), () =>
          Effect.sync(() => {
            for (const [storeKey, start] of misses)
              countRead(meter, keyspace.name, flights.settle(storeKey, start), true)
          }),
        )
      }),
  }
}
