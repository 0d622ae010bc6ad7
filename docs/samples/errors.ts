import { Cache, createCache, InvalidValue, Keyspace } from "@strata/core"
import { Effect, Schema } from "effect"

const Carts = Keyspace.make({
  name: "shop.cart",
  key: Schema.String,
  value: Schema.Struct({ items: Schema.Array(Schema.String), total: Schema.Int }),
  ttl: "1 day",
})

// #region promise
export const promiseStyle = async () => {
  const cache = await createCache()
  const carts = cache.keyspace(Carts)
  try {
    // A value from untyped code (JSON, say) that does not match the schema: nothing is written.
    await carts.set("c-1", JSON.parse('{ "items": ["tea"], "total": "4.50" }'))
    return "stored"
  } catch (error) {
    if (error instanceof InvalidValue) return `rejected: ${error._tag}`
    throw error
  } finally {
    await cache.close()
  }
}
// #endregion promise

// #region effect
export const effectStyle = Effect.gen(function* () {
  const cache = yield* Cache.Cache
  return yield* cache.set(Carts, "c-1", JSON.parse('{ "items": ["tea"], "total": "4.50" }')).pipe(
    Effect.as("stored"),
    Effect.catchTag("InvalidValue", (error) => Effect.succeed(`rejected: ${error._tag}`)),
  )
})
// #endregion effect

export const main = async () => ({
  promise: await promiseStyle(),
  effect: await Effect.runPromise(effectStyle.pipe(Effect.provide(Cache.layer()))),
})
