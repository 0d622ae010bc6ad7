import { Keyspace } from "@strata/core"
import { Effect, Schema } from "effect"

/** Last-seen times by user id: an entry keyspace for write-behind tests. */
export const LastSeen = Keyspace.make({
  name: "test.last-seen",
  key: Schema.Int,
  value: Schema.Number,
  ttl: "1 hour",
})

/** View counts by page: a counter keyspace for write-behind tests. */
export const Views = Keyspace.counter({ name: "test.views", key: Schema.String, ttl: "1 hour" })

/** Lets forked fibers run up to their next wait. */
export const settle = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
})

/** A cart: quantities by SKU. */
export const Cart = Schema.Struct({ items: Schema.Record(Schema.String, Schema.Int) })
export type Cart = typeof Cart.Type

/** Adds one of `sku` to a cart (pure: it may run several times under contention). */
export const addOne =
  (sku: string) =>
  (cart: Cart | undefined): Cart => ({ items: { ...cart?.items, [sku]: (cart?.items[sku] ?? 0) + 1 } })
