/**
 * The sliding window counter's Lua against its TypeScript steps on a real
 * Redis, from arbitrary stored states: buckets before the window, across its
 * oldest edge and at its newest end (the model tests cover the TypeScript;
 * Redis's clock cannot be driven, so the state is placed around it instead).
 */
import { RateLimiter } from "@strata/ratelimit"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SUB_WINDOWS, slidingWindow } from "../../src/algorithms/SlidingWindow.ts"
import { limiterOf, openRedis, RedisHarness, runWith } from "../redisHelpers.ts"

let server: RedisHarness.RedisServer
let redis: Awaited<ReturnType<typeof openRedis>>

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  redis = await openRedis(server.url)
})
afterAll(async () => {
  await redis?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

// Buckets of 10 s: a test step that stays within one bucket sees one span on both sides.
const windowMillis = 100_000
const width = windowMillis / SUB_WINDOWS
let keys = 0

describe("sliding window counter on Redis", () => {
  it("the script decides as the TypeScript does from any stored state (allowed, remaining, resetAt, retryAfter, state left)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: -14, max: 0 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 14 }),
        fc.record({ refund: fc.boolean(), cost: fc.integer({ min: 1, max: 12 }) }),
        async (limit, offset, counts, { refund, cost }) => {
          const limiter = limiterOf("sliding-window", { limit, windowMillis })
          const key = `s${keys++}`
          const amount = Math.min(cost, limit)
          // Learn the storage key from a first consume, then overwrite its state.
          await runWith(redis.store)(RateLimiter.refund(limiter, key, 1))
          await runWith(redis.store)(RateLimiter.consume(limiter, key, 1))
          const [stored] = await redis.inspect.keys(`*'${key}'`)
          const before = await redis.serverTime()
          const first = Math.floor(before / width) + offset
          const state = { first, counts }
          await redis.inspect.set(stored!, `${first}:${counts.join(",")}`, "PX", 60_000)
          const step = refund
            ? RateLimiter.refund(limiter, key, amount)
            : RateLimiter.consume(limiter, key, amount)
          const got = await runWith(redis.store)(step)
          const after = await redis.serverTime()
          // A step that crossed a bucket edge saw another span: skip it (rare: a few ms in 10 s).
          fc.pre(Math.floor(before / width) === Math.floor(after / width))
          const params = { limit, windowMillis, burst: limit }
          const want = (refund ? slidingWindow.refund : slidingWindow.consume)(state, before, amount, params)
          expect([got.allowed, got.remaining]).toEqual([want.outcome.allowed, want.outcome.remaining])
          // Nothing left counting: reset is "now", the script's own instant.
          if (want.outcome.resetAt === before)
            expect(got.resetAt - before).toBeLessThanOrEqual(after - before)
          else expect(got.resetAt).toBe(want.outcome.resetAt)
          expect(Math.abs(got.retryAfter - want.outcome.retryAfter)).toBeLessThanOrEqual(after - before)
          const left = await redis.inspect.get(stored!)
          const wanted =
            want.state === undefined ? null : `${want.state.first}:${want.state.counts.join(",")}`
          expect(left).toBe(wanted)
          if (left !== null) expect(await redis.inspect.pttl(stored!)).toBeGreaterThan(0)
        },
      ),
      { numRuns: 200 },
    )
  })
})
