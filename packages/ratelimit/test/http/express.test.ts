import { rateLimit } from "@strata/ratelimit/express"
import express from "express"
import { describe, expect, it } from "vitest"
import { close, expectBothLimiters, hit, memoryLimits, perIp, perUser, userKey } from "./httpHelpers.ts"

describe("@strata/ratelimit/express (Express 5)", () => {
  it("counts per IP, answers 429 with Retry-After and the IETF headers, skips what it is told to", async () => {
    const limits = await memoryLimits()
    const app = express()
    app.use(
      rateLimit({
        limiter: perIp(),
        limits,
        skip: (r) => r.url === "/health",
        cost: (r) => (r.url === "/heavy" ? 3 : 1),
      }),
    )
    app.get("/", (_req, res) => {
      res.send("ok")
    })
    app.get("/heavy", (_req, res) => {
      res.send("heavy")
    })
    app.get("/health", (_req, res) => {
      res.send("up")
    })
    const server = app.listen(0, "127.0.0.1")
    await new Promise((resolve) => server.once("listening", resolve))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      const responses = await hit(`${url}/`, 4)
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429])
      expect(responses[0]!.rateLimit).toMatch(/^"http\.per-ip";r=2;t=\d+$/)
      expect(responses[3]!.retryAfter).toMatch(/^\d+$/)
      expect((await hit(`${url}/health`, 3)).map((r) => r.status)).toEqual([200, 200, 200])
    } finally {
      await close(server)
      await limits.close()
    }
  })

  it("a request's cost comes from the cost function: one heavy request spends the whole limit", async () => {
    const limits = await memoryLimits()
    const app = express()
    app.use(rateLimit({ limiter: perIp(), limits, cost: (r) => (r.url === "/heavy" ? 3 : 1) }))
    app.get("/{*path}", (_req, res) => {
      res.send("ok")
    })
    const server = app.listen(0, "127.0.0.1")
    await new Promise((resolve) => server.once("listening", resolve))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      expect((await hit(`${url}/heavy`, 1))[0]!.rateLimit).toMatch(/r=0;/)
      expect((await hit(`${url}/light`, 1))[0]!.status).toBe(429)
    } finally {
      await close(server)
      await limits.close()
    }
  })

  it("two middlewares (per IP, then per user) each add their item to RateLimit and RateLimit-Policy", async () => {
    const limits = await memoryLimits()
    const app = express()
    app.use(rateLimit({ limiter: perIp(), limits }))
    app.use(rateLimit({ limiter: perUser(), limits, key: userKey }))
    app.get("/", (_req, res) => {
      res.send("ok")
    })
    const server = app.listen(0, "127.0.0.1")
    await new Promise((resolve) => server.once("listening", resolve))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    try {
      await expectBothLimiters(url)
    } finally {
      await close(server)
      await limits.close()
    }
  })
})
