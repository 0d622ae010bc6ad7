import { createServer } from "node:http"
import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { rateLimit } from "@strata/ratelimit/node"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  close,
  expectBothLimiters,
  hit,
  listen,
  memoryLimits,
  perIp,
  perUser,
  userKey,
} from "./httpHelpers.ts"

describe("@strata/ratelimit/node", () => {
  it("lets 3 requests through with the IETF headers, then answers 429 with Retry-After", async () => {
    const limits = await memoryLimits()
    const limit = rateLimit({ limiter: perIp(), limits, skip: (r) => r.url === "/health" })
    const server = createServer(async (req, res) => {
      if (!(await limit(req, res))) return
      res.end("ok")
    })
    const url = await listen(server)
    try {
      const responses = await hit(`${url}/`, 4)
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429])
      expect(responses.map((r) => r.rateLimit?.replace(/t=\d+/, "t"))).toEqual([
        '"http.per-ip";r=2;t',
        '"http.per-ip";r=1;t',
        '"http.per-ip";r=0;t',
        '"http.per-ip";r=0;t',
      ])
      expect(responses[0]!.policy).toBe('"http.per-ip";q=3;w=60')
      expect(Number(responses[3]!.retryAfter)).toBeGreaterThanOrEqual(50)
      expect(Number(responses[3]!.retryAfter)).toBeLessThanOrEqual(60)
      expect(JSON.parse(responses[3]!.body)).toMatchObject({ error: "Too Many Requests" })
      // Skipped: never counted, no headers.
      const health = await hit(`${url}/health`, 2)
      expect(health.map((r) => [r.status, r.rateLimit])).toEqual([
        [200, null],
        [200, null],
      ])
    } finally {
      await close(server)
      await limits.close()
    }
  })

  it("keys by the socket address and ignores X-Forwarded-For unless the proxy is trusted", async () => {
    const limits = await memoryLimits()
    const untrusting = rateLimit({ limiter: perIp(), limits })
    const trusting = rateLimit({
      limiter: RateLimiter.make({
        name: "http.proxied",
        key: Schema.String,
        algorithm: "fixed-window",
        limit: 1,
        window: "1 minute",
      }),
      limits,
      trustProxy: 1,
    })
    const server = createServer(async (req, res) => {
      const step = req.url === "/proxied" ? trusting : untrusting
      if (!(await step(req, res))) return
      res.end("ok")
    })
    const url = await listen(server)
    try {
      // Spoofed headers change nothing without trust: one client, one count.
      const spoofed = []
      for (let i = 0; i < 4; i++)
        spoofed.push((await hit(`${url}/`, 1, { "x-forwarded-for": `10.0.0.${i}` }))[0]!.status)
      expect(spoofed).toEqual([200, 200, 200, 429])
      // Behind one trusted proxy, the rightmost entry is the client: two clients, one request each.
      const a = await hit(`${url}/proxied`, 2, { "x-forwarded-for": "203.0.113.9, 198.51.100.1" })
      const b = await hit(`${url}/proxied`, 1, { "x-forwarded-for": "198.51.100.2" })
      expect(a.map((r) => r.status)).toEqual([200, 429])
      expect(b.map((r) => r.status)).toEqual([200])
    } finally {
      await close(server)
      await limits.close()
    }
  })

  it("answers 503 when the limiter fails (Redis killed, the limiter does not fail open or closed)", async () => {
    const redis = await RedisHarness.startRedis()
    const limits = await createRateLimiter({
      store: RedisRateStore.layer({ url: redis.url, commandTimeoutMillis: 200 }),
    })
    const limit = rateLimit({ limiter: perIp(), limits })
    const server = createServer(async (req, res) => {
      if (!(await limit(req, res))) return
      res.end("ok")
    })
    const url = await listen(server)
    try {
      expect((await hit(`${url}/`, 1))[0]!.status).toBe(200)
      await redis.kill()
      const [down] = await hit(`${url}/`, 1)
      expect(down!.status).toBe(503)
      expect(down!.retryAfter).toBe("1")
    } finally {
      await close(server)
      await limits.close()
      await RedisHarness.stopAll([redis])
    }
  })

  it("two steps (per IP, then per user) each add their item to RateLimit and RateLimit-Policy", async () => {
    const limits = await memoryLimits()
    const byIp = rateLimit({ limiter: perIp(), limits })
    const byUser = rateLimit({ limiter: perUser(), limits, key: userKey })
    const server = createServer(async (req, res) => {
      if (!(await byIp(req, res)) || !(await byUser(req, res))) return
      res.end("ok")
    })
    const url = await listen(server)
    try {
      await expectBothLimiters(url)
    } finally {
      await close(server)
      await limits.close()
    }
  })
})
