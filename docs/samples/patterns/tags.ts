import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

// #region keyspaces
// A product page, tagged with its product.
const ProductPages = Keyspace.make({
  name: "shop.product-page",
  key: Schema.Struct({ sku: Schema.String }),
  value: Schema.Struct({ sku: Schema.String, html: Schema.String }),
  ttl: "1 hour",
  tags: ({ sku }) => [`product:${sku}`],
})

// Every page of a category listing, tagged with the category.
const Listings = Keyspace.make({
  name: "shop.listing",
  key: Schema.Struct({ category: Schema.String, page: Schema.Int }),
  value: Schema.Array(Schema.String),
  ttl: "1 hour",
  tags: ({ category }) => [`category:${category}`],
})
// #endregion keyspaces

export const main = async () => {
  const cache = await createCache()
  const pages = cache.keyspace(ProductPages)
  const listings = cache.keyspace(Listings)
  await pages.set({ sku: "tea-01" }, { sku: "tea-01", html: "<h1>Green tea</h1>" })
  await pages.set({ sku: "tea-02" }, { sku: "tea-02", html: "<h1>Black tea</h1>" })
  for (const page of [1, 2, 3]) await listings.set({ category: "tea", page }, [`tea-0${page}`])

  // #region invalidate
  // The price of tea-01 changed: its page and every page of its category's listing are out of date.
  await cache.invalidateTag("product:tea-01")
  await cache.invalidateTag("category:tea")
  // #endregion invalidate

  const result = {
    page1: await pages.get({ sku: "tea-01" }),
    page2: await pages.get({ sku: "tea-02" }),
    listing: await Promise.all([1, 2, 3].map((page) => listings.get({ category: "tea", page }))),
  }
  await cache.close()
  return result
}
