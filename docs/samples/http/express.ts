import { createServer } from "node:http"
import { cacheResponses } from "@strata/http/express"
import express from "express"
import { listen } from "./listen.ts"
import { exercise, newCache, responseCacheOf, shop } from "./pages.ts"

export const main = async () => {
  const cache = await newCache()
  const products = shop()
  // #region express
  const app = express()
  app.use(cacheResponses(responseCacheOf(cache)))
  app.get("/products/:id", (req, res) => {
    const product = products.render(Number(req.params.id))
    if (product === undefined) res.status(404).json({ error: "not found" })
    else res.json(product)
  })
  // #endregion express
  const running = await listen(createServer(app))
  const result = await exercise(running.url, cache, async () => {
    products.setPrice(42, 500)
    await cache.invalidateTag("product:42")
  })
  await running.close()
  return { ...result, renders: products.renders() }
}
