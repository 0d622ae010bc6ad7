/**
 * The product page: cache-aside on one product (joined with its category and
 * brand), loaded once for concurrent callers, and a view counted into the
 * write-behind buffer.
 */
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import { ProductNotFound } from "../Errors.ts"
import type { Meter } from "../Meters.ts"
import type { Product } from "../Model.ts"
import { getOrSet } from "./ReadThrough.ts"

/** Thrown by the loader for a product that does not exist (nothing is cached). */
class Missing extends Error {}

/** The product `id`, counting a view; fails with `ProductNotFound`. */
export const productPage = async (shop: ShopContext, meter: Meter, id: number): Promise<Product> => {
  const product = await findProduct(shop, meter, id)
  shop.views.add(id)
  return product
}

/** The product `id` through the cache, without counting a view; fails with `ProductNotFound`. */
export const findProduct = async (shop: ShopContext, meter: Meter, id: number): Promise<Product> => {
  try {
    return await getOrSet(shop.products, meter, { id }, async () => {
      const found = await Catalog.findProduct(shop.db, meter, id)
      if (found === undefined) throw new Missing()
      return found
    })
  } catch (error) {
    if (error instanceof Error && error.cause instanceof Missing) throw new ProductNotFound({ id })
    throw error
  }
}
