/**
 * Review statistics as a computed value: an aggregate over the reviews
 * table, cached under the product's review tag and dropped by that tag when
 * a review is added, so the next read recomputes it once.
 */
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import { ProductNotFound } from "../Errors.ts"
import { Tags } from "../Keyspaces.ts"
import type { Meter } from "../Meters.ts"
import type { ReviewStats } from "../Model.ts"
import { findProduct } from "./ProductPage.ts"
import { getOrSet } from "./ReadThrough.ts"

/** The review statistics of product `productId`; fails with `ProductNotFound`. */
export const reviewStats = async (
  shop: ShopContext,
  meter: Meter,
  productId: number,
): Promise<ReviewStats> => {
  // The product read is cached too: an unknown id is a 404, not a cached empty aggregate.
  await findProduct(shop, meter, productId)
  return getOrSet(shop.reviewStats, meter, { productId }, () =>
    Catalog.reviewStats(shop.db, meter, productId),
  )
}

/** Adds a review and drops the product's cached statistics; fails with `ProductNotFound`. */
export const addReview = async (
  shop: ShopContext,
  meter: Meter,
  review: { productId: number; userId: number; rating: number; body: string },
): Promise<void> => {
  if (!(await Catalog.addReview(shop.db, meter, review))) throw new ProductNotFound({ id: review.productId })
  await shop.cache.invalidateTag(Tags.reviews(review.productId))
}
