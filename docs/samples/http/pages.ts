import { createCache, type StrataCache } from "@strata/core"
import { HttpKeyspace, ResponseCache } from "@strata/http"

// #region keyspace
// Server pages: fresh for a minute unless a page's Cache-Control says less; tagged by product.
export const Pages = HttpKeyspace.make({
  name: "shop.pages",
  ttl: "1 minute",
  tags: ({ url }) => {
    const id = /^\/products\/(\d+)/.exec(url)?.[1]
    return id === undefined ? [] : [`product:${id}`]
  },
})
// #endregion keyspace

// #region cache
/** The response cache every framework sample uses. */
export const responseCacheOf = (cache: StrataCache) =>
  ResponseCache.make({
    cache,
    keyspace: Pages,
    statuses: [404], // cache "not found" too
    maxBodyBytes: 256 * 1024, // larger pages are sent, not stored
    // Pages for signed-in users are cached per user; the token must be verified before it names anyone.
    identity: (request) => request.header("authorization")?.replace(/^Bearer /, "user:"),
  })
// #endregion cache

/** The product the samples render, and a count of renders. */
export const shop = () => {
  const prices = new Map([[42, 450]])
  let renders = 0
  return {
    render: (id: number) => {
      renders++
      const price = prices.get(id)
      return price === undefined ? undefined : { id, price }
    },
    setPrice: (id: number, price: number) => prices.set(id, price),
    renders: () => renders,
  }
}

/** What each sample reports: X-Cache of a first, second and post-update request, and the renders. */
export const exercise = async (url: string, cache: StrataCache, update: () => Promise<void>) => {
  const xCache = async (path: string) => {
    const response = await fetch(`${url}${path}`)
    await response.text()
    return `${response.status} ${response.headers.get("x-cache")}`
  }
  const first = await xCache("/products/42?currency=EUR&lang=en")
  const second = await xCache("/products/42?lang=en&currency=EUR") // same page: the query is sorted
  await update()
  const afterUpdate = await xCache("/products/42?currency=EUR&lang=en")
  const missing = [await xCache("/products/7"), await xCache("/products/7")]
  await cache.close()
  return { first, second, afterUpdate, missing }
}

export const newCache = () => createCache()
