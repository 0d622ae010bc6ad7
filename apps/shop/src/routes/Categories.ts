/**
 * Category listings as `@strata/patterns`' `IdList`: a page caches only its
 * product ids (under the category's tag, dropped when one of its products
 * changes), and the products come through the product `Repository` in one
 * batched `getMany`: products cached by their own pages are reused, and the
 * misses cost one `SELECT ... = ANY($1)`.
 */
import { IdList } from "@strata/patterns"
import { Effect } from "effect"
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import { CategoryNotFound } from "../Errors.ts"
import { CategoryPages } from "../Keyspaces.ts"
import type { Meter } from "../Meters.ts"
import type { Product } from "../Model.ts"
import { loader, metered, meteredMany } from "../Reads.ts"
import * as Products from "./Products.ts"

/** `GET /api/categories/:id/products?page=`: one page of a category's products; fails with `CategoryNotFound`. */
export const page = (shop: ShopContext, meter: Meter) => {
  const pages = IdList.makeWith(
    shop.cache.service,
    CategoryPages,
    meteredMany(shop, meter, Products.repository(shop, meter)),
    (params: { readonly categoryId: number; readonly page: number }) =>
      Effect.flatMap(
        loader(meter, CategoryPages, [CategoryPages.storeKey(params)], async () => {
          const ids = await Catalog.categoryProductIds(shop.db, meter, params.categoryId, params.page)
          // An empty page of an unknown category is a 404, not a cached empty list.
          if (ids.length === 0 && !(await Catalog.categoryExists(shop.db, meter, params.categoryId)))
            return undefined
          return ids
        }),
        (ids) =>
          ids === undefined
            ? Effect.fail(new CategoryNotFound({ id: params.categoryId }))
            : Effect.succeed({ ids, next: null }),
      ),
  )
  return async (categoryId: number, page: number): Promise<ReadonlyArray<Product>> => {
    const key = { categoryId, page }
    const { items } = await metered(shop, meter, CategoryPages, key, () => shop.cache.run(pages.get(key)))
    return items
  }
}
