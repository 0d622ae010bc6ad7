import { type Cache, type CacheEvent, Keyspace, type Store, StoreUnavailable } from "@strata/core"
import { Effect, Schema } from "effect"

/** A keyspace of strings with a grace window, for the engine's part tests. */
export const Items = Keyspace.make({
  name: "engine.item",
  key: Schema.String,
  value: Schema.String,
  ttl: "1 minute",
  staleFor: "10 minutes",
})

/** Cache options for caches sharing a lease: short TTL and poll, so tests step the clock a little. */
export const leased = { lease: { ttl: "1 second", pollInterval: "50 millis" } } as const

/** A loader that counts its calls and takes `millis` (default 100 ms). */
export const countingLoader = (millis = 100) => {
  const calls = { loads: 0 }
  const load = (value: string) =>
    Effect.sync(() => {
      calls.loads++
    }).pipe(Effect.andThen(Effect.sleep(millis)), Effect.as(value))
  return { calls, load }
}

/** Lets forked fibers run up to their next wait. */
export const settle = Effect.gen(function* () {
  for (let i = 0; i < 5; i++) yield* Effect.yieldNow
})

/** Records every event a cache reports. */
export const events = (cache: Cache.Service) => {
  const seen: Array<CacheEvent> = []
  cache.onEvent((e) => seen.push(e))
  return seen
}

/** A memory store whose calls fail while `down` is set. */
export const flaky = (store: Store.Service) => {
  const state = { down: false, calls: 0 }
  const wrap =
    <Args extends Array<any>, A, E>(f: (...args: Args) => Effect.Effect<A, E>) =>
    (...args: Args) =>
      Effect.suspend((): Effect.Effect<A, E | StoreUnavailable> => {
        state.calls++
        return state.down
          ? Effect.fail(
              new StoreUnavailable({
                store: "flaky",
                operation: "x",
                reason: "unreachable",
                message: "down",
              }),
            )
          : f(...args)
      })
  const wrapped: Store.Service = {
    ...store,
    get: wrap(store.get),
    getMany: wrap(store.getMany),
    set: wrap(store.set),
    setMany: wrap(store.setMany),
    delete: wrap(store.delete),
    increment: wrap(store.increment),
    clear: wrap(store.clear),
    versioned: {
      get: wrap(store.versioned!.get),
      getMany: wrap(store.versioned!.getMany),
      fill: wrap(store.versioned!.fill),
    },
    leases: { acquire: wrap(store.leases!.acquire), release: wrap(store.leases!.release) },
  }
  return { store: wrapped, state }
}
