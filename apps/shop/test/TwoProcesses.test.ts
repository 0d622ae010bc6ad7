/**
 * Two shop processes sharing one Redis (its own redis-server on a free
 * loopback port): a write through one is seen by the other within the bus
 * bound, one user's cart stays exact under concurrent adds through both,
 * and a user's rate limit (10 requests a minute here) is one count across
 * both. Each process has its own embedded database with the same
 * deterministic seed; the cache tier, the bus and the rate limiters'
 * counters are what they share.
 */
import { RedisHarness } from "@strata/testkit/servers"
import { afterAll, beforeAll, expect, it } from "vitest"
import * as Peer from "../src/Peer.ts"

let redis: RedisHarness.RedisServer
let a: Peer.Peer
let b: Peer.Peer

beforeAll(async () => {
  redis = await RedisHarness.startRedis()
  const env = { REDIS_URL: redis.url, SHOP_RATE_LIMIT_PER_USER: "10" }
  ;[a, b] = await Promise.all([
    Peer.start(env, { startTimeoutMillis: 240_000 }),
    Peer.start(env, { startTimeoutMillis: 240_000 }),
  ])
}, 300_000)
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await redis?.stop()
}, 60_000)

const call = async (url: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  })
  expect(response.ok).toBe(true)
  return (await response.json()) as any
}

it("a price change through one process is seen by the other within the bus bound (500 ms)", async () => {
  // Both processes hold product 7 in their L1.
  const before = await call(a.url, "GET", "/api/products/7")
  expect((await call(b.url, "GET", "/api/products/7")).priceCents).toBe(before.priceCents)
  const price = before.priceCents + 250
  await call(a.url, "PUT", "/api/products/7", { priceCents: price })
  const written = performance.now()
  let seenAfter = Number.POSITIVE_INFINITY
  while (performance.now() - written < 5_000) {
    if ((await call(b.url, "GET", "/api/products/7")).priceCents === price) {
      seenAfter = performance.now() - written
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  // The bound is 500 ms; slack for a loaded 2-core machine.
  expect(seenAfter).toBeLessThan(1_000)
}, 30_000)

it("a category listing dropped by tag in one process is dropped in the other", async () => {
  const product = await call(a.url, "GET", "/api/products/9")
  const path = `/api/categories/${product.category.id}/products`
  expect((await call(b.url, "GET", path)).products.find((p: any) => p.id === 9).priceCents).toBe(
    product.priceCents,
  )
  await call(a.url, "PUT", "/api/products/9", { priceCents: product.priceCents + 1 })
  await new Promise((resolve) => setTimeout(resolve, 600))
  expect((await call(b.url, "GET", path)).products.find((p: any) => p.id === 9).priceCents).toBe(
    product.priceCents + 1,
  )
}, 30_000)

it("concurrent add-to-cart requests of one user through both processes lose nothing", async () => {
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      call(i % 2 === 0 ? a.url : b.url, "POST", "/api/carts/900/items", { productId: 3, quantity: 1 }),
    ),
  )
  await new Promise((resolve) => setTimeout(resolve, 600))
  for (const peer of [a, b]) {
    const cart = await call(peer.url, "GET", "/api/carts/900")
    expect(cart.lines).toEqual([{ productId: 3, quantity: 30 }])
  }
}, 30_000)

it("a user's rate limit is one count across both processes (the limiters' counters are in Redis)", async () => {
  const asUser = (url: string, user: string) =>
    fetch(`${url}/api/products/11`, { headers: { "x-user-id": user } }).then(async (response) => {
      await response.arrayBuffer()
      return response
    })
  for (let i = 0; i < 10; i++) {
    const response = await asUser(i % 2 === 0 ? a.url : b.url, "901")
    expect(response.status).toBe(200)
    expect(response.headers.get("ratelimit")).toContain(`"shop.api.user";r=${9 - i};`)
  }
  for (const peer of [a, b]) {
    const denied = await asUser(peer.url, "901")
    expect(denied.status).toBe(429)
    expect(Number(denied.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
  }
  expect((await asUser(b.url, "902")).status).toBe(200)
}, 30_000)
