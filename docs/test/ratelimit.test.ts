import { RedisHarness } from "@strata/testkit/servers"
import { describe, expect, it } from "vitest"
import * as Express from "../samples/ratelimit/express.ts"
import * as Fastify from "../samples/ratelimit/fastify.ts"
import * as Hono from "../samples/ratelimit/hono.ts"
import * as Limiters from "../samples/ratelimit/limiters.ts"
import * as NodeHttp from "../samples/ratelimit/node-http.ts"

const statuses = (responses: ReadonlyArray<{ status: number }>) => responses.map((r) => r.status)

describe("rate-limiting samples", () => {
  it("limiters: a 5-unit export, then the burst of 20 runs out; a cost over the burst is InvalidCost; refund", async () => {
    const expected = { exported: 15, admitted: 15, tooBig: "over-capacity", afterRefund: 1 }
    const inMemory = await Limiters.main()
    expect(inMemory).toMatchObject(expected)
    expect(inMemory.retryAfter).toBeGreaterThanOrEqual(1)
    // One unit refills every 6 s.
    expect(inMemory.retryAfter).toBeLessThanOrEqual(6_000)
    const server = await RedisHarness.startRedis()
    try {
      expect(await Limiters.main(server.url)).toMatchObject(expected)
    } finally {
      await RedisHarness.stopAll([server])
    }
    expect(Limiters.declarationErrors()).toBe("limit")
  })

  it("node:http, Express, Fastify and Hono: 3 pass with RateLimit headers, the 4th is 429 with Retry-After", async () => {
    for (const sample of [NodeHttp, Express, Fastify, Hono]) {
      const responses = await sample.main()
      expect(statuses(responses)).toEqual([200, 200, 200, 429])
      expect(responses[0]!.rateLimit).toMatch(/;r=2;t=\d+$/)
      expect(responses[3]!.retryAfter).toMatch(/^[1-9]\d*$/)
    }
  })
})
