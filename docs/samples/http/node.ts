import { createServer } from "node:http"
import { cacheResponses } from "@strata/http/node"
import { listen } from "./listen.ts"
import { exercise, newCache, responseCacheOf, shop } from "./pages.ts"

export const main = async () => {
  const cache = await newCache()
  const products = shop()
  // #region node
  const pages = responseCacheOf(cache)
  const server = createServer(
    cacheResponses(pages, (req, res) => {
      const id = Number(/^\/products\/(\d+)/.exec(req.url ?? "")?.[1])
      const product = products.render(id)
      res.statusCode = product === undefined ? 404 : 200
      res.setHeader("content-type", "application/json")
      res.end(JSON.stringify(product ?? { error: "not found" }))
    }),
  )
  // #endregion node
  const app = await listen(server)
  const result = await exercise(app.url, cache, async () => {
    products.setPrice(42, 500)
    await cache.invalidateTag("product:42") // the product changed: its pages go, in every process
  })
  await app.close()
  return { ...result, renders: products.renders() }
}
