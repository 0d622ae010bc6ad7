import { createCache } from "@strata/core"
import { createSearch, Search } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

// #region definition
const ProductSearch = Search.define({
  name: "shop.search",
  filters: Schema.Struct({
    brands: Schema.Array(Schema.String),
    maxPriceCents: Schema.optional(Schema.Int),
  }),
  value: Schema.Struct({ ids: Schema.Array(Schema.Int), total: Schema.Int }),
  ttl: "30 seconds", // results go stale fast: keep them short-lived
  tags: () => ["catalog"], // any catalog change drops every cached search
  normalise: { unordered: ["brands"] }, // query: trimmed, spaces collapsed, lower case (the defaults)
})
// #endregion definition

/** Runs the search cache on the memory tier, or on L1 + Redis when given a Redis URL. */
export const main = async (redisUrl?: string) => {
  const searches: Array<string> = []
  const cache = await createCache(
    redisUrl === undefined
      ? {}
      : {
          l2: RedisStore.layer({ url: redisUrl, prefix: "sample-search:" }),
          bus: RedisBus.layer({ url: redisUrl, channel: "sample-search:bus" }),
        },
  )
  // #region search
  const search = createSearch(cache, ProductSearch, async ({ query, filters, page }) => {
    searches.push(`${query} [${filters.brands.join(",")}] p${page}`) // the search engine, called with the normalised params
    return { ids: [page * 10 + 1, page * 10 + 2], total: 42 }
  })

  await search.get({ query: "Green  Tea ", filters: { brands: ["teapot", "leafy"] }, page: 0 })
  await search.get({ query: "green tea", filters: { brands: ["leafy", "teapot"] }, page: 0 }) // same key: cached
  const page1 = await search.get({ query: "green tea", filters: { brands: ["leafy", "teapot"] }, page: 1 })
  await cache.invalidateTag("catalog") // a product changed: every cached search is dropped
  await search.get({ query: "green tea", filters: { brands: ["leafy", "teapot"] }, page: 0 })
  // #endregion search
  await cache.close()
  return { page1: page1.ids, searches }
}
