/**
 * The JSON API's rate limits over real HTTP, against a shop of its own
 * (embedded PGlite, a small catalog) with small limits: 30 requests a
 * minute per IP, 5 per user. The shop trusts one proxy, so each test is a
 * client of its own through `X-Forwarded-For`.
 */
import { afterAll, beforeAll, expect, it } from "vitest"
import { RATE_LIMITED } from "../src/Meters.ts"
import * as Shop from "../src/Shop.ts"

let shop: Shop.RunningShop

beforeAll(async () => {
  shop = await Shop.start({
    seed: { categories: 2, brands: 2, products: 50, reviews: 50 },
    viewFlushMillis: 60_000,
    rateLimits: { perIp: 30, perUser: 5, trustProxy: 1 },
  })
}, 120_000)
afterAll(async () => {
  await shop?.close()
})

const call = async (path: string, ip: string, user?: string) => {
  const response = await fetch(`${shop.url}${path}`, {
    headers: { "x-forwarded-for": ip, ...(user === undefined ? {} : { "x-user-id": user }) },
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as any }
}

it("every API response carries the IETF RateLimit-Policy and RateLimit fields, one item per limiter", async () => {
  const byIp = await call("/api/products/1", "203.0.113.1")
  expect(byIp.status).toBe(200)
  expect(byIp.headers.get("ratelimit-policy")).toBe('"shop.api.ip";q=30;w=60')
  expect(byIp.headers.get("ratelimit")).toMatch(/^"shop\.api\.ip";r=29;t=\d+$/)
  const both = await call("/api/products/1", "203.0.113.1", "7")
  expect(both.headers.get("ratelimit-policy")).toBe('"shop.api.ip";q=30;w=60, "shop.api.user";q=5;w=60')
  expect(both.headers.get("ratelimit")).toMatch(/^"shop\.api\.ip";r=28;t=\d+, "shop\.api\.user";r=4;t=\d+$/)
  // Only the JSON API is limited.
  const health = await fetch(`${shop.url}/health`)
  expect(health.headers.get("ratelimit")).toBeNull()
})

it("the sixth request of a user in a minute gets 429 with Retry-After; another user is not affected", async () => {
  for (let i = 0; i < 5; i++) expect((await call("/api/products/2", "203.0.113.2", "11")).status).toBe(200)
  const denied = await call("/api/products/2", "203.0.113.2", "11")
  expect(denied.status).toBe(429)
  expect(Number(denied.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
  expect(denied.headers.get("ratelimit")).toMatch(/"shop\.api\.user";r=0;t=\d+$/)
  expect(denied.body.error).toBe("Too Many Requests")
  // Same IP, another user; and the first user from another IP is still over its own limit.
  expect((await call("/api/products/2", "203.0.113.2", "12")).status).toBe(200)
  expect((await call("/api/products/2", "203.0.113.9", "11")).status).toBe(429)
})

it("the 31st request of an IP in a minute gets 429 with Retry-After; another IP is not affected", async () => {
  const limited = shop.context.meters.meter(RATE_LIMITED).route.requests
  const route = shop.context.meters.meter("GET /api/products/:id").route.requests
  for (let i = 0; i < 30; i++) expect((await call("/api/products/3", "203.0.113.3")).status).toBe(200)
  const denied = await call("/api/products/3", "203.0.113.3")
  expect(denied.status).toBe(429)
  expect(Number(denied.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
  expect((await call("/api/products/3", "203.0.113.4")).status).toBe(200)
  // The 429 counts on its own row, not on the route's.
  expect(shop.context.meters.meter(RATE_LIMITED).route.requests - limited).toBe(1)
  expect(shop.context.meters.meter("GET /api/products/:id").route.requests - route).toBe(31)
})

it("a malformed x-user-id is a 400 BadRequest", async () => {
  for (const user of ["abc", "0", "99999999999", "1.5"]) {
    const answer = await call("/api/products/4", "203.0.113.5", user)
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe("BadRequest")
  }
})
