/**
 * The shop's routes over real HTTP against one shop (embedded PGlite, L1
 * cache) shared by the file: each test uses its own products and users.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { normalise } from "../src/Keyspaces.ts"
import * as Products from "../src/routes/Products.ts"
import * as Scenario from "../src/Scenario.ts"
import * as Shop from "../src/Shop.ts"

const seed = { categories: 10, brands: 20, products: 2_000, reviews: 4_000 }
let shop: Shop.RunningShop

beforeAll(async () => {
  shop = await Shop.start({ seed, viewFlushMillis: 60_000 })
}, 120_000)
afterAll(async () => {
  await shop?.close()
})

const call = async (method: string, path: string, body?: unknown, raw?: string) => {
  const response = await fetch(`${shop.url}${path}`, {
    method,
    ...(body === undefined && raw === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: raw ?? JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as any }
}
const get = (path: string) => call("GET", path)
const statements = () => shop.context.db.statements()
const loadsOf = (keyspace: string) => shop.context.meters.keyspace(keyspace).loads

describe("product page (cache-aside)", () => {
  it("serves the product joined with its category and brand, and a second read sends no SQL", async () => {
    const first = await get("/api/products/11")
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ id: 11, slug: "product-11", category: { id: 2 }, brand: { id: 18 } })
    const before = statements()
    const second = await get("/api/products/11")
    expect(second.body).toEqual(first.body)
    expect(statements()).toBe(before)
  })

  it("loads a cold product once for 50 concurrent requests", async () => {
    const before = loadsOf("shop.product")
    const answers = await Promise.all(Array.from({ length: 50 }, () => get("/api/products/12")))
    expect(answers.every((a) => a.status === 200 && a.body.id === 12)).toBe(true)
    expect(loadsOf("shop.product") - before).toBe(1)
  })

  it("answers 404 with a JSON error for an unknown product and 400 for a bad id or bad JSON", async () => {
    expect(await get("/api/products/999999")).toEqual({
      status: 404,
      body: { error: "ProductNotFound", id: 999999 },
    })
    // Found from outside: a repeated q and a NUL character were 500s.
    expect((await get("/api/search?q=lamp&q=cozy")).status).toBe(400)
    expect((await get("/api/search?q=a%00b")).status).toBe(400)
    const nul = await call("POST", "/api/products/11/reviews", { userId: 1, rating: 4, body: "a\u0000b" })
    expect(nul).toMatchObject({ status: 400, body: { error: "BadRequest" } })
    expect((await call("PUT", "/api/products/11", { name: "a\u0000b" })).status).toBe(400)
    const badId = await get("/api/products/abc")
    expect(badId.status).toBe(400)
    expect(badId.body.error).toBe("BadRequest")
    const badJson = await call("PUT", "/api/products/13", undefined, "{not json")
    expect(badJson.status).toBe(400)
    expect(badJson.body.error).toBe("BadRequest")
    const badField = await call("PUT", "/api/products/13", { priceCents: -5 })
    expect(badField.status).toBe(400)
  })
})

describe("product update (write-through)", () => {
  it("a price change is seen by the next product read and the next category listing", async () => {
    const before = (await get("/api/products/21")).body
    const listed = await get(`/api/categories/${before.category.id}/products?page=1`)
    expect(listed.body.products.map((p: any) => p.id)).toContain(21)
    const updated = await call("PUT", "/api/products/21", { priceCents: before.priceCents + 100 })
    expect(updated.body).toMatchObject({ priceCents: before.priceCents + 100, version: before.version + 1 })
    expect((await get("/api/products/21")).body.priceCents).toBe(before.priceCents + 100)
    const idsLoads = loadsOf("shop.category.ids")
    const relisted = await get(`/api/categories/${before.category.id}/products?page=1`)
    expect(relisted.body.products.find((p: any) => p.id === 21).priceCents).toBe(before.priceCents + 100)
    // The update dropped the category's ID lists by tag: the list was read from the database again.
    expect(loadsOf("shop.category.ids") - idsLoads).toBe(1)
  })

  it("after concurrent updates the cached product is the database's latest row (no older value wins)", async () => {
    await get("/api/products/22")
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => call("PUT", "/api/products/22", { priceCents: 1_000 + i })),
    )
    const [row] = await shop.context.db.query<{ price_cents: number; version: number }>(
      "SELECT price_cents, version FROM products WHERE id = 22",
    )
    const cached = (await get("/api/products/22")).body
    expect(cached.version).toBe(row!.version)
    expect(cached.priceCents).toBe(row!.price_cents)
    expect(cached.version).toBe(11)
  })

  it("a write that reaches the cache late with an older version does not replace the newer one", async () => {
    const v1 = (await get("/api/products/23")).body
    const v2 = (await call("PUT", "/api/products/23", { priceCents: v1.priceCents + 7 })).body
    expect(v2.version).toBe(v1.version + 1)
    // The slower writer of the older row reaches the cache now, through the repository's write-through.
    const products = Products.repository(shop.context, shop.context.meters.meter("test"))
    await shop.context.cache.run(products.update(23, Effect.succeed(v1)))
    expect((await get("/api/products/23")).body).toEqual(v2)
  })
})

describe("category listing (ID list)", () => {
  it("caches the page's ids and reads the missing products in one statement", async () => {
    const before = statements()
    const first = await get("/api/categories/5/products?page=2")
    expect(first.body.products).toHaveLength(24)
    expect(first.body.products.every((p: any) => p.category.id === 5)).toBe(true)
    // One statement for the ids, one for all 24 products.
    expect(statements() - before).toBe(2)
    const again = statements()
    expect((await get("/api/categories/5/products?page=2")).body).toEqual(first.body)
    expect(statements()).toBe(again)
    expect((await get("/api/categories/77/products")).status).toBe(404)
  })
})

describe("review statistics (computed)", () => {
  it("are computed once and recomputed after a review is added", async () => {
    const first = (await get("/api/products/31/reviews/stats")).body
    const loads = loadsOf("shop.review.stats")
    await get("/api/products/31/reviews/stats")
    expect(loadsOf("shop.review.stats")).toBe(loads)
    const added = await call("POST", "/api/products/31/reviews", { userId: 5, rating: 1, body: "Broke." })
    expect(added.status).toBe(201)
    const after = (await get("/api/products/31/reviews/stats")).body
    expect(after.count).toBe(first.count + 1)
    expect(after.histogram[0]).toBe(first.histogram[0] + 1)
    expect(loadsOf("shop.review.stats")).toBe(loads + 1)
    expect(
      (await call("POST", "/api/products/999999/reviews", { userId: 5, rating: 1, body: "" })).status,
    ).toBe(404)
  })
})

describe("cart (session data)", () => {
  it("keeps every item of 40 concurrent add-to-cart requests of one user", async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call("POST", "/api/carts/501/items", { productId: 41 + (i % 2), quantity: 1 }),
      ),
    )
    expect(answers.every((a) => a.status === 200)).toBe(true)
    const cart = (await get("/api/carts/501")).body
    expect(cart.lines).toHaveLength(2)
    expect(cart.lines.reduce((n: number, line: any) => n + line.quantity, 0)).toBe(40)
    expect((await get("/api/carts/502")).body).toEqual({ userId: 502, lines: [] })
    expect((await call("POST", "/api/carts/501/items", { productId: 999999, quantity: 1 })).status).toBe(404)
  })
})

describe("search", () => {
  it("normalises a query to its distinct lower-case words, sorted", () => {
    expect(normalise("  Lamp cozy LAMP, red!")).toEqual(["cozy", "lamp", "red"])
    expect(normalise(" ,; ")).toEqual([])
  })

  it("shares one cache entry between queries that differ in case, spacing and word order", async () => {
    const loads = loadsOf("shop.search")
    const a = await get(`/api/search?q=${encodeURIComponent("Cozy Lamp")}`)
    const b = await get(`/api/search?q=${encodeURIComponent("  lamp   COZY ")}`)
    expect(b.body).toEqual(a.body)
    expect(loadsOf("shop.search") - loads).toBe(1)
    expect(a.body.products.length).toBeGreaterThan(0)
    expect(a.body.products.every((p: any) => /cozy/i.test(p.name) && /lamp/i.test(p.name))).toBe(true)
  })
})

describe("prices in other currencies (cached exchange-rate upstream)", () => {
  const price = async (id: number, currency: string) => {
    const response = await fetch(`${shop.url}/api/products/${id}/price?currency=${currency}`)
    return {
      status: response.status,
      cache: response.headers.get("x-rate-cache"),
      body: (await response.json()) as any,
    }
  }
  const upstream = () => ({ ...shop.rates!.counts })
  const pastMaxAge = () => new Promise((resolve) => setTimeout(resolve, 1_100)) // the fake sends max-age=1

  it("converts the price; the second request makes no upstream call, and after max-age a 304 revalidates", async () => {
    const product = (await get("/api/products/71")).body
    const before = upstream()
    const first = await price(71, "CHF")
    expect(first).toMatchObject({ status: 200, cache: "MISS" })
    expect(first.body).toMatchObject({
      productId: 71,
      priceCents: product.priceCents,
      currency: "CHF",
      rate: 0.88,
    })
    expect(first.body.amount).toBe(Math.round(product.priceCents * 0.88) / 100)
    expect(upstream().requests - before.requests).toBe(1)

    const second = await price(72, "CHF")
    expect(second).toMatchObject({ status: 200, cache: "HIT" })
    expect(upstream().requests - before.requests).toBe(1)

    await pastMaxAge()
    const third = await price(71, "CHF")
    expect(third).toMatchObject({ status: 200, cache: "REVALIDATED" })
    expect(third.body).toEqual(first.body)
    expect(upstream().requests - before.requests).toBe(2)
    expect(upstream().notModified - before.notModified).toBe(1)
    expect(await price(71, "CHF")).toMatchObject({ cache: "HIT" })
  })

  it("a changed rate is fetched whole (new ETag) once the stored one is past its max-age", async () => {
    expect((await price(73, "CAD")).body.rate).toBe(1.36)
    shop.rates!.setRate("CAD", 1.5)
    expect(await price(73, "CAD")).toMatchObject({ cache: "HIT", body: { rate: 1.36 } })
    await pastMaxAge()
    const before = upstream()
    expect(await price(73, "CAD")).toMatchObject({ cache: "MISS", body: { rate: 1.5 } })
    expect(upstream().notModified).toBe(before.notModified)
  })

  it("30 concurrent requests for a cold currency make one upstream call", async () => {
    const before = upstream().requests
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => price(80 + i, "SEK")))
    expect(answers.every((a) => a.status === 200 && a.body.rate === 10.45)).toBe(true)
    expect(upstream().requests - before).toBe(1)
  })

  it("answers 400 for an unknown or malformed currency and 404 for an unknown product", async () => {
    expect(await price(71, "XYZ")).toMatchObject({
      status: 400,
      body: { error: "UnsupportedCurrency", currency: "XYZ" },
    })
    expect(await price(71, "eur")).toMatchObject({ status: 400, body: { error: "BadRequest" } })
    expect(await price(999_999, "CHF")).toMatchObject({ status: 404, body: { error: "ProductNotFound" } })
  })
})

describe("view counts (write-behind)", () => {
  it("buffers views and writes them in one statement per flush", async () => {
    await call("POST", "/api/views/flush")
    for (let i = 0; i < 30; i++) await get("/api/products/61")
    const pending = (await get("/api/products/61/views")).body
    expect(pending.pending).toBe(30)
    const before = statements()
    await call("POST", "/api/views/flush")
    expect(statements() - before).toBe(1)
    expect((await get("/api/products/61/views")).body).toMatchObject({ stored: 30, pending: 0, total: 30 })
  })
})

describe("metrics page and scenario", () => {
  it("the scenario runs through HTTP and the metrics page shows non-zero hits", async () => {
    const result = await Scenario.run(shop.url, {
      products: seed.products,
      categories: seed.categories,
      size: { stampede: 40, browsing: 300, cartAdds: 20, searches: 40, prices: 5, concurrency: 8 },
    })
    expect(result.stampede.productLoads).toBe(1)
    expect(result.price.seen).toBe(result.price.after)
    expect(result.cart.quantity).toBe(20)
    expect(result.reviews.after).toBe(result.reviews.before + 1)
    // One upstream call per currency, then revalidations only; one user over its limit got 429s.
    expect(result.prices).toMatchObject({ misses: 3 })
    expect(result.prices.revalidated).toBeGreaterThan(0)
    expect(result.limited.denied).toBeGreaterThan(0)
    const page = await fetch(`${shop.url}/metrics`)
    expect(page.headers.get("content-type")).toMatch(/text\/html/)
    const html = await page.text()
    expect(html).toContain("setInterval(tick, 1000)")
    const json = (await get("/metrics.json")).body
    expect(json.cache["hits L1"]).toBeGreaterThan(0)
    expect(json.cache["requests rate-limited (429)"]).toBe(result.limited.denied)
    expect(json.cache["exchange-rate upstream calls"]).toBeGreaterThan(0)
    expect(json.keyspaces.find((k: any) => k.keyspace === "shop.product")["hits L1"]).toBeGreaterThan(0)
    // The page carries the numbers before its script runs (the docs' browser check reads it at load).
    expect(html).toMatch(/<td>hits L1<\/td><td>[1-9]\d*<\/td>/)
  })
})
