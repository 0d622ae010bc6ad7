import { StoreUnavailable } from "@strata/core"
import { type Algorithm, MemoryRateStore, RateLimiter, RateLimitStore } from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { Effect, Exit } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { limiterOf, openRedis, RedisHarness, runWith } from "./redisHelpers.ts"

let server: RedisHarness.RedisServer
let redis: Awaited<ReturnType<typeof openRedis>>
let run: ReturnType<typeof runWith>

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  redis = await openRedis(server.url, { prefix: "rl:", commandTimeoutMillis: 2_000 })
  run = runWith(redis.store)
})
afterAll(async () => {
  await redis?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

const algorithms: ReadonlyArray<Algorithm.Name> = [
  "fixed-window",
  "sliding-log",
  "sliding-window",
  "token-bucket",
  "gcra",
]
// Long windows: the few ms a test takes change no count (a fixed-window boundary every 24.8 days).
const LONG = 2 ** 31 - 1
let keys = 0

describe("RedisRateStore", () => {
  for (const algorithm of algorithms) {
    it(`${algorithm}: the script decides as the memory store does (allowed, remaining; times within the test's duration)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.record({ refund: fc.boolean(), cost: fc.integer({ min: 1, max: 6 }) }), {
            maxLength: 25,
          }),
          async (limit, ops) => {
            const limiter = limiterOf(algorithm, { limit, windowMillis: LONG })
            const memory = MemoryRateStore.make()
            const key = `k${keys++}`
            const started = Date.now()
            for (const { refund, cost } of ops.map((o) => ({ ...o, cost: Math.min(o.cost, limit) }))) {
              const effect = refund
                ? RateLimiter.refund(limiter, key, cost)
                : RateLimiter.consume(limiter, key, cost)
              const fromRedis = await run(effect)
              const fromMemory = await runWith(memory)(effect)
              expect([fromRedis.allowed, fromRedis.remaining]).toEqual([
                fromMemory.allowed,
                fromMemory.remaining,
              ])
              const slack = Date.now() - started + 1_000
              expect(Math.abs(fromRedis.resetAt - fromMemory.resetAt)).toBeLessThanOrEqual(slack)
              expect(Math.abs(fromRedis.retryAfter - fromMemory.retryAfter)).toBeLessThanOrEqual(slack)
            }
          },
        ),
        { numRuns: 15 },
      )
    })
  }

  it("numbers past 1e14 cross the Lua boundary exactly (a token bucket of 2^50 − ε units)", async () => {
    const limiter = limiterOf("token-bucket", { limit: 1, windowMillis: LONG, burst: 500_000 })
    const decisions = []
    for (let i = 0; i < 3; i++) decisions.push(await run(RateLimiter.consume(limiter, "huge", 1_000)))
    expect(decisions.map((d) => d.remaining)).toEqual([499_000, 498_000, 497_000])
    const raw = await redis.inspect.get("rl:token-bucket:t.token-bucket:v1:'huge'")
    expect(raw).toMatch(/^\d+:\d+$/)
    const [units] = raw!.split(":")
    // 497,000 tokens of 2^31 − 1 units each, plus at most a few ms of refill (1 unit a ms).
    expect(Number(units)).toBeGreaterThan(1e14)
    expect(Number(units) - 497_000 * LONG).toBeGreaterThanOrEqual(0)
    expect(Number(units) - 497_000 * LONG).toBeLessThan(60_000)
  })

  it("Redis's clock decides, not the caller's: a caller 7 minutes ahead gets the same window", async () => {
    const limiter = limiterOf("fixed-window", { limit: 2, windowMillis: 60_000 })
    const before = await redis.serverTime()
    const spy = vi.spyOn(Date, "now").mockImplementation(() => before + 7 * 60_000)
    try {
      const first = await run(RateLimiter.consume(limiter, "skewed"))
      const window = before - (before % 60_000)
      expect(first.resetAt === window + 60_000 || first.resetAt === window + 120_000).toBe(true)
    } finally {
      spy.mockRestore()
    }
  })

  it("every key the scripts write has a TTL, after any random sequence of steps on any algorithm", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            algorithm: fc.constantFrom(...algorithms),
            key: fc.constantFrom("a", "b", "c"),
            refund: fc.boolean(),
            cost: fc.integer({ min: 1, max: 3 }),
            windowMillis: fc.constantFrom(50, 1_000, 60_000),
          }),
          { maxLength: 30 },
        ),
        async (steps) => {
          for (const step of steps) {
            const limiter = limiterOf(step.algorithm, { limit: 3, windowMillis: step.windowMillis })
            await run(
              step.refund
                ? RateLimiter.refund(limiter, step.key, step.cost)
                : RateLimiter.consume(limiter, step.key, step.cost),
            )
          }
          const stored = await redis.inspect.keys("rl:*")
          const ttls = await Promise.all(stored.map((key) => redis.inspect.pttl(key)))
          // -2: expired between KEYS and PTTL; -1 (no TTL) must never appear.
          expect(ttls.filter((t) => t === -1)).toEqual([])
        },
      ),
      { numRuns: 20 },
    )
  })

  it("a key holding another type is a typed StoreUnavailable (rejected), not a wrong decision", async () => {
    await redis.inspect.lpush("rl:sliding-log:t.sliding-log:v1:'list'", "x")
    const limiter = limiterOf("sliding-log", { limit: 3, windowMillis: 1_000 })
    const exit = await Effect.runPromiseExit(
      Effect.provideService(RateLimiter.consume(limiter, "list"), RateLimitStore.RateLimitStore, redis.store),
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit)
      ? (exit.cause.reasons.find((r) => r._tag === "Fail") as { error: unknown } | undefined)?.error
      : undefined
    expect(error).toBeInstanceOf(StoreUnavailable)
    expect((error as StoreUnavailable).reason).toBe("rejected")
  })

  it("scriptOf gives each algorithm's full script, with Redis's TIME as its clock", () => {
    for (const algorithm of algorithms)
      expect(RedisRateStore.scriptOf(algorithm)).toContain("redis.call('TIME')")
  })
})
