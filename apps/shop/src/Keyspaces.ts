/**
 * The shop's keyspaces: one declaration per kind of cached data.
 */
import { Keyspace } from "@strata/core"
import { type Duration, Schema } from "effect"
import { Product } from "./Catalog.ts"

/**
 * Product pages' data, by id. Fresh for `ttl`, then served stale for up to an
 * hour if the catalog is down. Tagged by product and by category, so a price
 * change or a category-wide sale invalidates exactly what it affects.
 */
export const makeProducts = (ttl: Duration.Input) =>
  Keyspace.make({
    name: "shop.product",
    key: Schema.Struct({ id: Schema.Int }),
    value: Product,
    ttl,
    staleFor: "1 hour",
    tags: ({ id }) => [`product:${id}`],
  })

/** Product page views, an atomic counter per product per day. */
export const ProductViews = Keyspace.counter({
  name: "shop.product.views",
  key: Schema.Struct({ id: Schema.Int, day: Schema.String }),
  ttl: "1 day",
})
