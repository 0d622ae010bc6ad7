/**
 * The shop's keyspaces: one declaration per kind of cached data, with its
 * lifetime and the tags that let a write invalidate exactly what it affects.
 * The search, the carts and the upstream responses are declared through
 * their pattern's own constructor (`Search.define`, `Session.make`,
 * `HttpKeyspace.make`), which builds the keyspace.
 */
import { Keyspace } from "@strata/core"
import { HttpKeyspace } from "@strata/http"
import { IdList, Search, Session } from "@strata/patterns"
import { Schema } from "effect"
import { Cart, Product, ReviewStats } from "./Model.ts"

/** Tags, in one place so writers and readers agree on them. */
export const Tags = {
  categoryList: (categoryId: number) => `category-list:${categoryId}`,
  reviews: (productId: number) => `reviews:${productId}`,
} as const

/** Product pages' data by id (the read-through repository's keyspace); served stale for up to an hour while the database is down. */
export const Products = Keyspace.make({
  name: "shop.product",
  key: Schema.Int,
  value: Product,
  ttl: "10 minutes",
  staleFor: "1 hour",
})

/** The product ids of one page of a category listing (the ID list), dropped by the category's tag. */
export const CategoryPages = Keyspace.make({
  name: "shop.category.ids",
  version: 2,
  key: Schema.Struct({ categoryId: Schema.Int, page: Schema.Int }),
  value: IdList.pageSchema(Schema.Int),
  ttl: "5 minutes",
  tags: ({ categoryId }) => [Tags.categoryList(categoryId)],
})

/** Review statistics, computed from the reviews table; dropped when a review is added. */
export const ReviewStatsByProduct = Keyspace.make({
  name: "shop.review.stats",
  key: Schema.Struct({ productId: Schema.Int }),
  value: ReviewStats,
  ttl: "1 hour",
  tags: ({ productId }) => [Tags.reviews(productId)],
})

/** The query's distinct lower-case words, sorted: what a search is keyed by. */
export const normalise = (query: string): Array<string> =>
  [...new Set(query.toLowerCase().split(/[^\p{L}\p{N}]+/u))].filter((t) => t !== "").sort()

/**
 * Search results (product ids) of a query in a category (0: all), short-lived.
 * The key is normalised first: case, spacing, punctuation, word order and
 * repeated words make no new entry ("Red  Lamp" and "lamp red" share one).
 * Every entry carries the tag `ProductSearch.tag`, dropped when a product is renamed.
 */
export const ProductSearch = Search.define({
  name: "shop.search",
  version: 2,
  filters: Schema.Struct({ categoryId: Schema.Int }),
  value: Schema.Array(Schema.Int),
  ttl: "30 seconds",
  normalise: { custom: (params) => ({ ...params, query: normalise(params.query).join(" ") }) },
})

/** Carts by user: session data, in the cache only, changed atomically; a day after the last access they expire. */
export const Carts = Session.make({
  name: "shop.cart",
  version: 2,
  key: Schema.Struct({ userId: Schema.Int }),
  value: Cart,
  idleTimeout: "1 day",
  user: ({ userId }) => userId,
})

/** The keys of the view-count writer (write-behind): product ids. Nothing is cached under it. */
export const PendingViews = Keyspace.counter({ name: "shop.views.pending", key: Schema.Int, ttl: "1 day" })

/**
 * The exchange-rate service's responses: fresh for what their
 * `Cache-Control` says (at most an hour), then kept a day for revalidation
 * (`If-None-Match`) and served while the service is down.
 */
export const Rates = HttpKeyspace.make({ name: "shop.rates", ttl: "1 hour", staleFor: "1 day" })

/** The keyspaces a start that seeded a new database empties (a shared tier may hold another database's rows). */
export const seeded: ReadonlyArray<Keyspace.Keyspace<any, any>> = [
  Products,
  CategoryPages,
  ReviewStatsByProduct,
  ProductSearch.keyspace,
  Carts.keyspace,
]
