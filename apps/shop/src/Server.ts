/**
 * The shop's HTTP API on Fastify: JSON routes, each one pattern, each timed
 * and counted on its own meter; typed errors mapped to status codes.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify"
import * as Catalog from "./Catalog.ts"
import type { ShopContext } from "./Context.ts"
import { BadRequest, CategoryNotFound, ProductNotFound } from "./Errors.ts"
import type { Meter } from "./Meters.ts"
import * as MetricsPage from "./MetricsPage.ts"
import { addReview, reviewStats } from "./patterns/Computed.ts"
import { categoryPage } from "./patterns/IdList.ts"
import { productPage } from "./patterns/ProductPage.ts"
import { search } from "./patterns/SearchCache.ts"
import { addToCart, getCart } from "./patterns/Session.ts"
import { updateProduct } from "./patterns/WriteThrough.ts"
import { CartAdd, decode, intParam, NewReview, ProductUpdate } from "./Requests.ts"

const MAX_ID = 2 ** 31 - 1

type Params = Record<string, string | undefined>
type Handler = (meter: Meter, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

const started = Symbol("started")

/** Builds the Fastify app over `shop` (not listening yet). */
export const build = (shop: ShopContext): FastifyInstance => {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })

  app.addHook("onRequest", async (request) => {
    ;(request as unknown as Record<symbol, number>)[started] = performance.now()
  })
  app.addHook("onResponse", async (request) => {
    const at = (request as unknown as Record<symbol, number>)[started]
    const url = request.routeOptions.url
    if (at !== undefined && url?.startsWith("/api/"))
      shop.meters.request(`${request.method} ${url}`, performance.now() - at)
  })

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof ProductNotFound) return reply.code(404).send({ error: error._tag, id: error.id })
    if (error instanceof CategoryNotFound) return reply.code(404).send({ error: error._tag, id: error.id })
    if (error instanceof BadRequest)
      return reply.code(400).send({ error: error._tag, message: error.message })
    const status = (error as { statusCode?: number }).statusCode
    if (status !== undefined && status >= 400 && status < 500)
      return reply.code(status).send({ error: "BadRequest", message: (error as Error).message })
    return reply
      .code(500)
      .send({ error: "InternalError", message: String((error as Error).message ?? error) })
  })
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: "NotFound", message: `no route ${request.method} ${request.url}` }),
  )

  const route = (method: "GET" | "PUT" | "POST", url: string, handler: Handler) => {
    const name = `${method} ${url}`
    const meter = shop.meters.meter(name)
    const traced = shop.cache.traced
    app.route({
      method,
      url,
      handler:
        traced === undefined
          ? (request, reply) => handler(meter, request, reply)
          : (request, reply) => traced(name, () => handler(meter, request, reply)),
    })
  }
  const params = (request: FastifyRequest) => request.params as Params
  const query = (request: FastifyRequest) => request.query as Params

  route("GET", "/api/products/:id", (meter, request) =>
    productPage(shop, meter, intParam(params(request).id, "id", 1, MAX_ID)),
  )
  route("PUT", "/api/products/:id", (meter, request) => {
    const changes = decode(ProductUpdate, request.body)
    if (Object.keys(changes).length === 0)
      throw new BadRequest({ message: "give at least one of priceCents, stock, name" })
    return updateProduct(shop, meter, intParam(params(request).id, "id", 1, MAX_ID), changes)
  })
  route("GET", "/api/categories/:id/products", async (meter, request) => {
    const categoryId = intParam(params(request).id, "id", 1, MAX_ID)
    const page = intParam(query(request).page, "page", 1, 1_000, 1)
    return { categoryId, page, products: await categoryPage(shop, meter, categoryId, page) }
  })
  route("GET", "/api/products/:id/reviews/stats", (meter, request) =>
    reviewStats(shop, meter, intParam(params(request).id, "id", 1, MAX_ID)),
  )
  route("POST", "/api/products/:id/reviews", async (meter, request, reply) => {
    const review = decode(NewReview, request.body)
    await addReview(shop, meter, { ...review, productId: intParam(params(request).id, "id", 1, MAX_ID) })
    return reply.code(201).send({ ok: true })
  })
  route("GET", "/api/carts/:userId", (_meter, request) =>
    getCart(shop, intParam(params(request).userId, "userId", 1, MAX_ID)),
  )
  route("POST", "/api/carts/:userId/items", (meter, request) => {
    const add = decode(CartAdd, request.body)
    return addToCart(
      shop,
      meter,
      intParam(params(request).userId, "userId", 1, MAX_ID),
      add.productId,
      add.quantity,
    )
  })
  route("GET", "/api/search", async (meter, request) => {
    const q = query(request).q ?? ""
    if (q.length > 200) throw new BadRequest({ message: "q is longer than 200 characters" })
    const categoryId = intParam(query(request).category, "category", 0, MAX_ID, 0)
    const page = intParam(query(request).page, "page", 1, 100, 1)
    return search(shop, meter, q, categoryId, page)
  })
  route("GET", "/api/products/:id/views", async (meter, request) => {
    const id = intParam(params(request).id, "id", 1, MAX_ID)
    const stored = await Catalog.views(shop.db, meter, id)
    return {
      productId: id,
      stored,
      pending: shop.views.pendingOf(id),
      total: stored + shop.views.pendingOf(id),
    }
  })
  route("POST", "/api/views/flush", async () => {
    await shop.views.flush()
    return { flushes: shop.views.flushes, viewsWritten: shop.views.flushed }
  })

  app.get("/metrics.json", async () => MetricsPage.snapshot(shop))
  const page = (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type("text/html; charset=utf-8").send(MetricsPage.html(MetricsPage.snapshot(shop)))
  app.get("/metrics", page)
  app.get("/", page)
  app.get("/health", async () => ({ ok: true }))
  return app
}
