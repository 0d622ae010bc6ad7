/**
 * The shop's keyspaces: one declaration per kind of cached data, with its
 * lifetime and the tags that let a write invalidate exactly what it affects.
 */
import { Keyspace } from "@strata/core"
import { Schema } from "effect"
import { Cart, Product, ReviewStats } from "./Model.ts"

/** Tags, in one place so writers and readers agree on them. */
export const Tags = {
  product: (id: number) => `product:${id}`,
  categoryList: (categoryId: number) => `category-list:${categoryId}`,
  reviews: (productId: number) => `reviews:${productId}`,
  search: "search",
} as const

/** Product pages' data by id; served stale for up to an hour while the database is down. */
export const Products = Keyspace.make({
  name: "shop.product",
  key: Schema.Struct({ id: Schema.Int }),
  value: Product,
  ttl: "10 minutes",
  staleFor: "1 hour",
  tags: ({ id }) => [Tags.product(id)],
})

/** The product ids of one page of a category listing (the ID-list pattern). */
export const CategoryProductIds = Keyspace.make({
  name: "shop.category.ids",
  key: Schema.Struct({ categoryId: Schema.Int, page: Schema.Int }),
  value: Schema.Array(Schema.Int),
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

/** Search results (product ids) under a normalised query; short-lived. */
export const SearchResults = Keyspace.make({
  name: "shop.search",
  key: Schema.Struct({ terms: Schema.String, categoryId: Schema.Int, page: Schema.Int }),
  value: Schema.Array(Schema.Int),
  ttl: "30 seconds",
  tags: () => [Tags.search],
})

/** Carts by user: session data, updated atomically by compare-and-set. */
export const Carts = Keyspace.make({
  name: "shop.cart",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Cart,
  ttl: "1 day",
})
