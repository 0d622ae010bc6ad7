/**
 * The shop's HTTP API on Fastify: JSON routes, each built once over its own
 * meter (its patterns count their reads, loads and statements there), each
 * timed; the API rate-limited per IP and per user; typed errors mapped to
 * status codes.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify"
import * as Catalog from "./Catalog.ts"
import type { ShopContext } from "./Context.ts"
import {
  BadRequest,
  CategoryNotFound,
  isCacheAway,
  ProductNotFound,
  RatesUnavailable,
  UnsupportedCurrency,
} from "./Errors.ts"
import { type Meter, RATE_LIMITED } from "./Meters.ts"
import * as MetricsPage from "./MetricsPage.ts"
import * as RateLimits from "./RateLimits.ts"
import { CartAdd, currencyParam, decode, intParam, NewReview, ProductUpdate, textParam } from "./Requests.ts"
import * as Carts from "./routes/Carts.ts"
import * as Categories from "./routes/Categories.ts"
import * as Prices from "./routes/Prices.ts"
import * as Products from "./routes/Products.ts"
import * as Reviews from "./routes/Reviews.ts"
import * as Search from "./routes/Search.ts"

const MAX_ID = 2 ** 31 - 1

type Params = Record<string, string | undefined>
type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

const started = Symbol("started")

/** Builds the Fastify app over `shop`, its API limited by `limits` (not listening yet). */
export const build = (shop: ShopContext, limits: RateLimits.Limits): FastifyInstance => {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })

  app.addHook("onRequest", async (request) => {
    ;(request as unknown as Record<symbol, number>)[started] = performance.now()
  })
  app.addHook("onResponse", async (request, reply) => {
    const at = (request as unknown as Record<symbol, number>)[started]
    const url = request.routeOptions.url
    if (at === undefined || !url?.startsWith("/api/")) return
    const row = reply.statusCode === 429 ? RATE_LIMITED : `${request.method} ${url}`
    shop.meters.request(row, performance.now() - at)
  })

  RateLimits.addHooks(app, limits)

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof ProductNotFound) return reply.code(404).send({ error: error._tag, id: error.id })
    if (error instanceof CategoryNotFound) return reply.code(404).send({ error: error._tag, id: error.id })
    if (error instanceof BadRequest)
      return reply.code(400).send({ error: error._tag, message: error.message })
    if (error instanceof UnsupportedCurrency)
      return reply.code(400).send({ error: error._tag, currency: error.currency })
    if (error instanceof RatesUnavailable)
      return reply.code(502).send({ error: error._tag, message: error.message })
    // The cache's shared tier is away: carts live only there, and a read that needs it can be retried.
    if (isCacheAway(error))
      return reply
        .code(503)
        .header("retry-after", "1")
        .send({ error: "CacheUnavailable", message: (error as Error).message })
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

  /** Registers a route whose handler `make` builds once, over the route's meter. */
  const route = (method: "GET" | "PUT" | "POST", url: string, make: (meter: Meter) => Handler) => {
    const name = `${method} ${url}`
    const handler = make(shop.meters.meter(name))
    const traced = shop.cache.traced
    app.route({
      method,
      url,
      handler:
        traced === undefined ? handler : (request, reply) => traced(name, () => handler(request, reply)),
    })
  }
  const params = (request: FastifyRequest) => request.params as Params
  const query = (request: FastifyRequest) => request.query as Params
  const id = (request: FastifyRequest) => intParam(params(request).id, "id", 1, MAX_ID)

  route("GET", "/api/products/:id", (meter) => {
    const page = Products.page(shop, meter)
    return (request) => page(id(request))
  })
  route("PUT", "/api/products/:id", (meter) => {
    const update = Products.update(shop, meter)
    return async (request) => {
      const changes = decode(ProductUpdate, request.body)
      if (Object.keys(changes).length === 0)
        throw new BadRequest({ message: "give at least one of priceCents, stock, name" })
      return update(id(request), changes)
    }
  })
  route("GET", "/api/products/:id/price", (meter) => {
    const price = Prices.price(shop, meter)
    return async (request, reply) => {
      const found = await price(id(request), currencyParam(query(request).currency))
      reply.header("x-rate-cache", found.cache)
      return found.price
    }
  })
  route("GET", "/api/categories/:id/products", (meter) => {
    const listing = Categories.page(shop, meter)
    return async (request) => {
      const categoryId = id(request)
      const page = intParam(query(request).page, "page", 1, 1_000, 1)
      return { categoryId, page, products: await listing(categoryId, page) }
    }
  })
  route("GET", "/api/products/:id/reviews/stats", (meter) => {
    const stats = Reviews.stats(shop, meter)
    return (request) => stats(id(request))
  })
  route("POST", "/api/products/:id/reviews", (meter) => {
    const add = Reviews.add(shop, meter)
    return async (request, reply) => {
      const review = decode(NewReview, request.body)
      await add({ ...review, productId: id(request) })
      return reply.code(201).send({ ok: true })
    }
  })
  route("GET", "/api/carts/:userId", () => {
    const get = Carts.get(shop)
    return (request) => get(intParam(params(request).userId, "userId", 1, MAX_ID))
  })
  route("POST", "/api/carts/:userId/items", (meter) => {
    const add = Carts.add(shop, meter)
    return async (request) => {
      const item = decode(CartAdd, request.body)
      return add(intParam(params(request).userId, "userId", 1, MAX_ID), item.productId, item.quantity)
    }
  })
  route("GET", "/api/search", (meter) => {
    const search = Search.search(shop, meter)
    return async (request) => {
      const q = textParam(query(request).q, "q", 200)
      const categoryId = intParam(query(request).category, "category", 0, MAX_ID, 0)
      const page = intParam(query(request).page, "page", 1, 100, 1)
      return search(q, categoryId, page)
    }
  })
  route("GET", "/api/products/:id/views", (meter) => async (request) => {
    const productId = id(request)
    const stored = await Catalog.views(shop.db, meter, productId)
    const pending = await shop.views.pendingOf(productId)
    return { productId, stored, pending, total: stored + pending }
  })
  route("POST", "/api/views/flush", () => async () => {
    await shop.views.flush()
    const counts = shop.views.counts()
    return { flushes: counts.flushes, viewsWritten: counts.flushed }
  })

  app.get("/metrics.json", async () => MetricsPage.snapshot(shop))
  const page = (_request: FastifyRequest, reply: FastifyReply) =>
    reply.type("text/html; charset=utf-8").send(MetricsPage.html(MetricsPage.snapshot(shop)))
  app.get("/metrics", page)
  app.get("/", page)
  app.get("/health", async () => ({ ok: true }))
  return app
}
