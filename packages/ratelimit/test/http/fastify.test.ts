import { rateLimit } from "@strata/ratelimit/fastify"
import Fastify from "fastify"
import { describe, expect, it } from "vitest"
import { expectBothLimiters, hit, memoryLimits, perIp, perUser, userKey } from "./httpHelpers.ts"

describe("@strata/ratelimit/fastify (Fastify 5)", () => {
  it("an onRequest hook: 3 pass with the IETF headers, the 4th is a 429 with Retry-After", async () => {
    const limits = await memoryLimits()
    const app = Fastify()
    app.addHook("onRequest", rateLimit({ limiter: perIp(), limits }))
    app.get("/", async () => "ok")
    const url = await app.listen({ port: 0, host: "127.0.0.1" })
    try {
      const responses = await hit(`${url}/`, 4)
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429])
      expect(responses.map((r) => r.rateLimit?.match(/r=(\d+)/)?.[1])).toEqual(["2", "1", "0", "0"])
      expect(responses[3]!.policy).toBe('"http.per-ip";q=3;w=60')
      expect(Number(responses[3]!.retryAfter)).toBeGreaterThanOrEqual(50)
      expect(JSON.parse(responses[3]!.body)).toMatchObject({ error: "Too Many Requests" })
    } finally {
      await app.close()
      await limits.close()
    }
  })

  it("two hooks (per IP, then per user) each add their item to RateLimit and RateLimit-Policy", async () => {
    const limits = await memoryLimits()
    const app = Fastify()
    app.addHook("onRequest", rateLimit({ limiter: perIp(), limits }))
    app.addHook("onRequest", rateLimit({ limiter: perUser(), limits, key: userKey }))
    app.get("/", async () => "ok")
    const url = await app.listen({ port: 0, host: "127.0.0.1" })
    try {
      await expectBothLimiters(url)
    } finally {
      await app.close()
      await limits.close()
    }
  })
})
