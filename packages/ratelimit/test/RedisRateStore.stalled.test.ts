/**
 * Redis stalled (SIGSTOP), then resumed: a decision its caller stopped
 * waiting for (a `Timeout`, or the fail-open or fail-closed answer given in
 * its place) is refused by the script once Redis runs it, so it is never
 * counted later. Found from outside: each of them was counted when Redis
 * resumed, so a denied request used up capacity.
 */
import { RateLimiter } from "@strata/ratelimit"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { limiterOf, openRedis, RedisHarness, runWith } from "./redisHelpers.ts"

let server: RedisHarness.RedisServer
let redis: Awaited<ReturnType<typeof openRedis>>
let run: ReturnType<typeof runWith>

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  redis = await openRedis(server.url, { commandTimeoutMillis: 400 })
  run = runWith(redis.store)
})
afterAll(async () => {
  await redis?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

const numbers = { limit: 3, windowMillis: 60_000 }

describe("Redis stalled, then resumed", () => {
  for (const [name, extra, timeoutMillis] of [
    ["fail-closed, limiter timeout 150 ms", { onStoreFailure: "closed" }, 150],
    ["fail-open, limiter timeout 150 ms", { onStoreFailure: "open" }, 150],
    ["error, the command timeout (400 ms)", {}, undefined],
  ] as const) {
    it(`${name}: the decision nobody waited for is not counted when Redis resumes`, async () => {
      const limiter = limiterOf("fixed-window", numbers, {
        ...extra,
        ...(timeoutMillis === undefined ? {} : { timeoutMillis }),
      })
      const key = `stalled-${name.split(",")[0]}`
      server.pause()
      try {
        const outcome = await run(RateLimiter.consume(limiter, key)).then(
          (d) => d.source,
          (e: { _tag: string }) => e._tag,
        )
        expect(outcome).toBe(
          timeoutMillis === undefined
            ? "Timeout"
            : extra.onStoreFailure === "open"
              ? "fail-open"
              : "fail-closed",
        )
      } finally {
        server.resume()
      }
      await new Promise((resolve) => setTimeout(resolve, 300))
      const next = await run(RateLimiter.consume(limiter, key))
      expect(next).toMatchObject({ allowed: true, remaining: 2, source: "store" })
    })
  }
})
