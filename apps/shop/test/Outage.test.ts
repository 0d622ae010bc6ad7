/**
 * The shop with its Redis killed, found from outside: price, cart and write
 * routes answered 500, and committed writes looked failed (a client that
 * retries writes twice). Now: reads answer from the database or the upstream,
 * carts (which live only in the cache) answer 503 `CacheUnavailable` with
 * Retry-After, committed writes answer as committed, and the shop is whole
 * again once Redis is back.
 */
import { RedisHarness } from "@strata/testkit/servers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Shop from "../src/Shop.ts"

let redis: RedisHarness.RedisServer
let shop: Shop.RunningShop

beforeAll(async () => {
  redis = await RedisHarness.startRedis()
  shop = await Shop.start({
    seed: { categories: 5, brands: 5, products: 200, reviews: 200 },
    redisUrl: redis.url,
    viewFlushMillis: 60_000,
  })
}, 120_000)
afterAll(async () => {
  await shop?.close()
  if (redis !== undefined) await RedisHarness.stopAll([redis])
})

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${shop.url}${path}`, {
    method,
    headers: { "x-user-id": "5", ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as any,
  }
}

describe("the shop while its Redis is killed", () => {
  it("reads from the database and the upstream, answers committed writes as such, carts 503; whole again after", async () => {
    expect((await call("GET", "/api/products/3/price?currency=EUR")).status).toBe(200)
    await redis.kill()
    for (let i = 0; i < 3; i++) {
      expect((await call("GET", `/api/products/${10 + i}`)).status).toBe(200)
      expect((await call("GET", "/api/products/3/price?currency=EUR")).status).toBe(200)
      expect((await call("GET", "/api/products/4/price?currency=GBP")).status).toBe(200)
    }
    const put = await call("PUT", "/api/products/20", { priceCents: 777 })
    expect(put).toMatchObject({ status: 200, body: { id: 20, priceCents: 777 } })
    expect(
      (await call("POST", "/api/products/20/reviews", { userId: 5, rating: 4, body: "fine" })).status,
    ).toBe(201)
    const cart = await call("GET", "/api/carts/77")
    expect(cart).toMatchObject({ status: 503, retryAfter: "1", body: { error: "CacheUnavailable" } })
    await redis.restart()
    let back = 0
    for (let waited = 0; waited < 10_000 && back !== 200; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      back = (await call("POST", "/api/carts/77/items", { productId: 3, quantity: 1 })).status
    }
    expect(back).toBe(200)
    expect((await call("GET", "/api/products/20")).body.priceCents).toBe(777)
  }, 60_000)
})
