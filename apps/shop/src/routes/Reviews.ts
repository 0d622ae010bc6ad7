/**
 * Review statistics as a computed value (`@strata/patterns`'
 * `Computed.cachedEffect`): an aggregate over a product's reviews, derived
 * from the product and cached under its review tag, which adding a review
 * drops, so the next read recomputes it once.
 */
import { Cache } from "@strata/core"
import { Computed } from "@strata/patterns"
import { Effect } from "effect"
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import { isCacheAway, ProductNotFound } from "../Errors.ts"
import { ReviewStatsByProduct, Tags } from "../Keyspaces.ts"
import type { Meter } from "../Meters.ts"
import type { Product, ReviewStats } from "../Model.ts"
import { loader, metered } from "../Reads.ts"
import * as Products from "./Products.ts"

/** `GET /api/products/:id/reviews/stats`; fails with `ProductNotFound`. */
export const stats = (shop: ShopContext, meter: Meter) => {
  const products = Products.repository(shop, meter)
  const statsOf = Computed.cachedEffect(
    ReviewStatsByProduct,
    (product: Product) => ({ productId: product.id }),
    (product) =>
      loader(meter, ReviewStatsByProduct, [ReviewStatsByProduct.storeKey({ productId: product.id })], () =>
        Catalog.reviewStats(shop.db, meter, product.id),
      ),
  )
  return async (productId: number): Promise<ReviewStats> => {
    // The product read is cached too: an unknown id is a 404, not a cached empty aggregate.
    const product = await Products.find(shop, meter, products, productId)
    return metered(shop, meter, ReviewStatsByProduct, { productId }, () =>
      shop.cache.run(Effect.provideService(statsOf(product), Cache.Cache, shop.cache.service)),
    )
  }
}

/** `POST /api/products/:id/reviews`: adds a review and drops the product's statistics; fails with `ProductNotFound`. */
export const add =
  (shop: ShopContext, meter: Meter) =>
  async (review: { productId: number; userId: number; rating: number; body: string }): Promise<void> => {
    if (!(await Catalog.addReview(shop.db, meter, review)))
      throw new ProductNotFound({ id: review.productId })
    // Committed: with the cache away, the statistics stay as cached until their TTL (see Products.update).
    await shop.cache
      .run(shop.cache.service.invalidateTag(Tags.reviews(review.productId)))
      .catch((error: unknown) => {
        if (!isCacheAway(error)) throw error
      })
  }
