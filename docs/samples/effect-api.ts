import { Cache, Keyspace, MemoryStore } from "@strata/core"
import { Effect, Option, Schema } from "effect"

const Products = Keyspace.make({
  name: "shop.product",
  key: Schema.Struct({ id: Schema.Int }),
  value: Schema.Struct({ id: Schema.Int, name: Schema.String, priceCents: Schema.Int }),
  ttl: "5 minutes",
  staleFor: "1 hour",
})

class ProductMissing extends Schema.TaggedError<ProductMissing>()("ProductMissing", { id: Schema.Int }) {}

const findProduct = (id: number) =>
  id > 0
    ? Effect.succeed({ id, name: `Product ${id}`, priceCents: 1_999 })
    : Effect.fail(new ProductMissing({ id }))

export const program = Effect.gen(function* () {
  const cache = yield* Cache.Cache
  // The loader's own typed error (ProductMissing) stays in the error channel.
  const product = yield* cache.getOrSet(Products, { id: 7 }, ({ id }) => findProduct(id))
  const again = yield* cache.get(Products, { id: 7 })
  return { product, cached: Option.isSome(again) }
})

// L1 in front of a memory store; swap in RedisStore.layer(...) for a shared tier.
export const main = () =>
  Effect.runPromise(program.pipe(Effect.provide(Cache.layer({ l2: MemoryStore.layer() }))))
