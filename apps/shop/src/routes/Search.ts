/**
 * Product search through `@strata/patterns`' `Search`: results (product
 * ids) are cached under the normalised query (see `Keyspaces.ProductSearch`)
 * for 30 s; the products come through the product `Repository` in one
 * batched `getMany`, so a price change shows in cached results at once.
 */
import { Search } from "@strata/patterns"
import { Option } from "effect"
import * as Catalog from "../Catalog.ts"
import type { ShopContext } from "../Context.ts"
import { normalise, ProductSearch } from "../Keyspaces.ts"
import type { Meter } from "../Meters.ts"
import type { Product } from "../Model.ts"
import { loader, metered, meteredMany } from "../Reads.ts"
import * as Products from "./Products.ts"

/** `GET /api/search?q=&category=&page=`: one page of products matching every word of `q`, in a category or all (0). */
export const search = (shop: ShopContext, meter: Meter) => {
  const products = meteredMany(shop, meter, Products.repository(shop, meter))
  const searches = Search.makeWith(shop.cache.service, ProductSearch, (params) =>
    loader(meter, ProductSearch.keyspace, [ProductSearch.keyspace.storeKey(params)], () =>
      Catalog.search(shop.db, meter, params.query.split(" "), params.filters.categoryId, params.page),
    ),
  )
  return async (
    query: string,
    categoryId: number,
    page: number,
  ): Promise<{ terms: Array<string>; products: Array<Product> }> => {
    const terms = normalise(query)
    if (terms.length === 0) return { terms, products: [] }
    // The key as the search stores it, for the metering's peek.
    const params = ProductSearch.normalise({ query, filters: { categoryId }, page })
    const ids = await metered(shop, meter, ProductSearch.keyspace, params, () =>
      shop.cache.run(searches.get(params)),
    )
    const found = await shop.cache.run(products.getMany(ids))
    return { terms, products: found.flatMap((p) => (Option.isSome(p) ? [p.value] : [])) }
  }
}
