import type { Server } from "node:http"
import { serve } from "@hono/node-server"
import { cacheResponses } from "@strata/http/hono"
import { Hono } from "hono"
import { exercise, newCache, responseCacheOf, shop } from "./pages.ts"

export const main = async () => {
  const cache = await newCache()
  const products = shop()
  // #region hono
  const app = new Hono()
  app.use(cacheResponses(responseCacheOf(cache)))
  app.get("/products/:id", (c) => {
    const product = products.render(Number(c.req.param("id")))
    return product === undefined ? c.json({ error: "not found" }, 404) : c.json(product)
  })
  // #endregion hono
  const { server, port } = await new Promise<{ server: Server; port: number }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
      resolve({ server: s as Server, port: info.port }),
    )
  })
  const result = await exercise(`http://127.0.0.1:${port}`, cache, async () => {
    products.setPrice(42, 500)
    await cache.invalidateTag("product:42")
  })
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return { ...result, renders: products.renders() }
}
