import { Cache, Keyspace, MemoryStore } from "@strata/core"
import { Effect, Schema } from "effect"

const Prices = Keyspace.make({
  name: "shop.price",
  key: Schema.Struct({ sku: Schema.String }),
  value: Schema.Struct({ cents: Schema.Int }),
  ttl: "10 minutes",
})

// #region layers
// L1 only: in process, the fastest, not shared with other processes.
export const Embedded = Cache.layer()

// L1 in front of a shared tier (here the memory store; RedisStore.layer(...) shares it between processes).
export const Tiered = Cache.layer({ l2: MemoryStore.layer() })

// No L1: every read goes to the shared tier.
export const SharedOnly = Cache.layer({ l1: false, l2: MemoryStore.layer() })
// #endregion layers

/** Writes a price, reads it twice, and reports which tier answered. */
export const program = Effect.gen(function* () {
  const cache = yield* Cache.Cache
  yield* cache.set(Prices, { sku: "tea-01" }, { cents: 450 })
  yield* cache.get(Prices, { sku: "tea-01" })
  yield* cache.get(Prices, { sku: "tea-01" })
  const { hitsL1, hitsL2 } = cache.stats()
  return { hitsL1, hitsL2 }
})

export const main = () =>
  Promise.all(
    [Embedded, Tiered, SharedOnly].map((layer) => Effect.runPromise(program.pipe(Effect.provide(layer)))),
  )
