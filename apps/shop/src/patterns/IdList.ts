/**
 * The category listing as an ID list: the page's product ids are cached
 * under the category's tag, and the products themselves come from the
 * product keyspace in one batched read (`getOrSetMany`): a product cached by
 * its own page is reused here, and the misses cost one `SELECT ... ANY`.
 */
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import { CategoryNotFound } from "../Errors.ts"
import type { Meter } from "../Meters.ts"
import type { Product } from "../Model.ts"
import { getOrSet, getOrSetMany } from "./ReadThrough.ts"

/** Products of the given ids, in order, with the ones that no longer exist left out. */
export const productsByIds = async (
  shop: ShopContext,
  meter: Meter,
  ids: ReadonlyArray<number>,
): Promise<Array<Product>> => {
  const found = await getOrSetMany(
    shop.products,
    meter,
    ids.map((id) => ({ id })),
    (keys) =>
      Catalog.findProducts(
        shop.db,
        meter,
        keys.map((k) => k.id),
      ),
  )
  return found.filter((p): p is Product => p !== undefined)
}

class Missing extends Error {}

/** One page of a category's products; fails with `CategoryNotFound`. */
export const categoryPage = async (
  shop: ShopContext,
  meter: Meter,
  categoryId: number,
  page: number,
): Promise<Array<Product>> => {
  let ids: ReadonlyArray<number>
  try {
    ids = await getOrSet(shop.categoryIds, meter, { categoryId, page }, async () => {
      const found = await Catalog.categoryProductIds(shop.db, meter, categoryId, page)
      if (found.length === 0 && !(await Catalog.categoryExists(shop.db, meter, categoryId)))
        throw new Missing()
      return found
    })
  } catch (error) {
    if (error instanceof Error && error.cause instanceof Missing)
      throw new CategoryNotFound({ id: categoryId })
    throw error
  }
  return productsByIds(shop, meter, ids)
}
