/**
 * The shop's data as the API serves it and the cache stores it, declared as
 * schemas (the keyspaces validate every value against them).
 */
import { Schema } from "effect"

/** A product with its category and brand joined in: the product page's data. */
export const Product = Schema.Struct({
  id: Schema.Int,
  slug: Schema.String,
  name: Schema.String,
  description: Schema.String,
  priceCents: Schema.Int,
  stock: Schema.Int,
  /** Incremented by every update: the cache never replaces a value with an older one. */
  version: Schema.Int,
  category: Schema.Struct({ id: Schema.Int, slug: Schema.String, name: Schema.String }),
  brand: Schema.Struct({ id: Schema.Int, name: Schema.String }),
})
export type Product = typeof Product.Type

/** Computed review statistics of one product. */
export const ReviewStats = Schema.Struct({
  productId: Schema.Int,
  count: Schema.Int,
  /** Mean rating rounded to two decimals, 0 when there are no reviews. */
  average: Schema.Number,
  /** Reviews per rating, index 0 for one star up to index 4 for five stars. */
  histogram: Schema.Array(Schema.Int),
})
export type ReviewStats = typeof ReviewStats.Type

/** One line of a cart. */
export const CartLine = Schema.Struct({ productId: Schema.Int, quantity: Schema.Int })
export type CartLine = typeof CartLine.Type

/** A user's cart: session data, kept in the cache only. */
export const Cart = Schema.Struct({ userId: Schema.Int, lines: Schema.Array(CartLine) })
export type Cart = typeof Cart.Type

/** The changes a product update may make. */
export interface ProductChanges {
  readonly priceCents?: number | undefined
  readonly stock?: number | undefined
  readonly name?: string | undefined
}
