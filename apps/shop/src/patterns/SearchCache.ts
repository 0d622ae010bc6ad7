/**
 * Search results cached under a normalised query: case, spacing, word order
 * and repeated words do not make a new entry ("Red  Lamp" and "lamp red"
 * share one). Results are product ids, short-lived and tagged `search`;
 * the products come through the product keyspace, so a price change shows in
 * cached results at once.
 */
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import type { Meter } from "../Meters.ts"
import type { Product } from "../Model.ts"
import { productsByIds } from "./IdList.ts"
import { getOrSet } from "./ReadThrough.ts"

/** The query's distinct lower-case words, sorted: the cache key's terms. */
export const normalise = (query: string): Array<string> =>
  [...new Set(query.toLowerCase().split(/[^\p{L}\p{N}]+/u))].filter((t) => t !== "").sort()

/** One page of products matching every word of `query`, in a category or all (0). */
export const search = async (
  shop: ShopContext,
  meter: Meter,
  query: string,
  categoryId: number,
  page: number,
): Promise<{ terms: Array<string>; products: Array<Product> }> => {
  const terms = normalise(query)
  if (terms.length === 0) return { terms, products: [] }
  const ids = await getOrSet(shop.searches, meter, { terms: terms.join(" "), categoryId, page }, () =>
    Catalog.search(shop.db, meter, terms, categoryId, page),
  )
  return { terms, products: await productsByIds(shop, meter, ids) }
}
