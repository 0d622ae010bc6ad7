/**
 * Product updates, write-through: the database first (in a transaction that
 * bumps the row's version), then the cache. The cached product is replaced
 * with `update`, a compare-and-set that keeps whichever of the cached and the
 * written value has the higher version, so a slower writer holding an older
 * row never overwrites a newer one. The category's ID lists and the search
 * results are dropped by tag, since the product's place in them may change.
 */
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import { ProductNotFound } from "../Errors.ts"
import { Tags } from "../Keyspaces.ts"
import type { Meter } from "../Meters.ts"
import type { Product, ProductChanges } from "../Model.ts"

/** Applies `changes` to product `id` and returns it as now cached; fails with `ProductNotFound`. */
export const updateProduct = async (
  shop: ShopContext,
  meter: Meter,
  id: number,
  changes: ProductChanges,
): Promise<Product> => {
  const written = await Catalog.updateProduct(shop.db, meter, id, changes)
  if (written === undefined) throw new ProductNotFound({ id })
  const cached = await storeNewer(shop, written)
  await shop.cache.invalidateTag(Tags.categoryList(written.category.id))
  if (changes.name !== undefined) await shop.cache.invalidateTag(Tags.search)
  return cached
}

/**
 * Stores `written` as product `written.id` unless the cache already holds a
 * newer version (a later write got there first); returns what is cached.
 */
export const storeNewer = (shop: ShopContext, written: Product): Promise<Product> =>
  shop.products.client.update({ id: written.id }, (current) =>
    current !== undefined && current.version > written.version ? current : written,
  )
