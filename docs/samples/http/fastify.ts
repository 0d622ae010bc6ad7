import { responseCache } from "@strata/http/fastify"
import Fastify from "fastify"
import { exercise, newCache, responseCacheOf, shop } from "./pages.ts"

export const main = async () => {
  const cache = await newCache()
  const products = shop()
  // #region fastify
  const app = Fastify()
  await app.register(responseCache, { cache: responseCacheOf(cache) })
  app.get<{ Params: { id: string } }>("/products/:id", async (request, reply) => {
    const product = products.render(Number(request.params.id))
    return product ?? reply.code(404).send({ error: "not found" })
  })
  // #endregion fastify
  const url = await app.listen({ port: 0, host: "127.0.0.1" })
  const result = await exercise(url, cache, async () => {
    products.setPrice(42, 500)
    await cache.invalidateTag("product:42")
  })
  await app.close()
  return { ...result, renders: products.renders() }
}
