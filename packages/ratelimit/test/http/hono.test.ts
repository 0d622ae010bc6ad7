import type { Server } from "node:http"
import { serve } from "@hono/node-server"
import { rateLimit } from "@strata/ratelimit/hono"
import { Hono } from "hono"
import { describe, expect, it } from "vitest"
import { close, expectBothLimiters, hit, memoryLimits, perIp, perUser, userKey } from "./httpHelpers.ts"

describe("@strata/ratelimit/hono (Hono 4 on @hono/node-server)", () => {
  it("3 pass with the IETF headers, the 4th is a 429 with Retry-After; the socket address is the key", async () => {
    const limits = await memoryLimits()
    const app = new Hono()
    app.use(rateLimit({ limiter: perIp(), limits }))
    app.get("/", (c) => c.text("ok"))
    let port = 0
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
        port = info.port
        resolve(s as Server)
      })
    })
    try {
      const responses = await hit(`http://127.0.0.1:${port}/`, 4, { "x-forwarded-for": "1.2.3.4" })
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429])
      expect(responses.map((r) => r.rateLimit?.match(/r=(\d+)/)?.[1])).toEqual(["2", "1", "0", "0"])
      expect(responses[3]!.retryAfter).toMatch(/^\d+$/)
      expect(responses[3]!.policy).toBe('"http.per-ip";q=3;w=60')
    } finally {
      await close(server)
      await limits.close()
    }
  })

  it("two middlewares (per IP, then per user) each add their item to RateLimit and RateLimit-Policy", async () => {
    const limits = await memoryLimits()
    const app = new Hono()
    app.use(rateLimit({ limiter: perIp(), limits }))
    app.use(rateLimit({ limiter: perUser(), limits, key: userKey }))
    app.get("/", (c) => c.text("ok"))
    let port = 0
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
        port = info.port
        resolve(s as Server)
      })
    })
    const url = `http://127.0.0.1:${port}`
    try {
      await expectBothLimiters(url)
    } finally {
      await close(server)
      await limits.close()
    }
  })
})
