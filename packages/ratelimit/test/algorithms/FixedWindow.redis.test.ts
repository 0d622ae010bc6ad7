/**
 * The fixed window's Redis script at the edges the memory store cannot show:
 * every millisecond a window's last (1 ms windows), a key written for another
 * window length (a redeploy), and counts left without a TTL or out of range.
 * Found from outside: a key first written in a window's last millisecond was
 * given an expiry in the past, so Redis deleted it at once and that
 * millisecond admitted everything.
 */
import { RateLimiter } from "@strata/ratelimit"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { limiterOf, openRedis, RedisHarness, runWith } from "../redisHelpers.ts"

let server: RedisHarness.RedisServer
let redis: Awaited<ReturnType<typeof openRedis>>
let run: ReturnType<typeof runWith>

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  redis = await openRedis(server.url)
  run = runWith(redis.store)
})
afterAll(async () => {
  await redis?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

const keyOf = (limiter: string, key: string) => `rl:fixed-window:${limiter}:v1:'${key}'`

describe("fixed window on Redis", () => {
  it("1 ms windows (every millisecond is a window's last): never more than the limit per window", async () => {
    const limiter = limiterOf("fixed-window", { limit: 1, windowMillis: 1 })
    const decisions = await Promise.all(
      Array.from({ length: 400 }, () => run(RateLimiter.consume(limiter, "edge"))),
    )
    const perWindow = new Map<number, number>()
    for (const d of decisions) if (d.allowed) perWindow.set(d.resetAt, (perWindow.get(d.resetAt) ?? 0) + 1)
    expect(Math.max(...perWindow.values())).toBe(1)
    expect(decisions.some((d) => !d.allowed)).toBe(true)
  })

  it("2 ms windows under steady load: never more than the limit per window", async () => {
    const limiter = limiterOf("fixed-window", { limit: 2, windowMillis: 2 })
    const perWindow = new Map<number, number>()
    const deadline = Date.now() + 300
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < deadline) {
          const d = await run(RateLimiter.consume(limiter, "steady"))
          if (d.allowed) perWindow.set(d.resetAt, (perWindow.get(d.resetAt) ?? 0) + 1)
        }
      }),
    )
    expect(perWindow.size).toBeGreaterThan(10)
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(2)
  })

  it("a limiter redeclared with a shorter window starts afresh instead of keeping the old window's count", async () => {
    const long = limiterOf("fixed-window", { limit: 2, windowMillis: 60_000 })
    for (let i = 0; i < 2; i++) expect((await run(RateLimiter.consume(long, "redeploy"))).allowed).toBe(true)
    expect((await run(RateLimiter.consume(long, "redeploy"))).allowed).toBe(false)
    const short = limiterOf("fixed-window", { limit: 2, windowMillis: 1_000 })
    const first = await run(RateLimiter.consume(short, "redeploy"))
    expect(first).toMatchObject({ allowed: true, remaining: 1 })
    expect(await redis.inspect.pttl(keyOf("t.fixed-window", "redeploy"))).toBeLessThanOrEqual(1_000)
  })

  it("a count left without a TTL, or out of range, is replaced: a TTL again, remaining within 0..limit", async () => {
    const limiter = limiterOf("fixed-window", { limit: 3, windowMillis: 60_000 })
    for (const [key, stored] of [
      ["no-ttl", "1"],
      ["negative", "-5"],
      ["huge", "1000"],
    ] as const) {
      await redis.inspect.set(keyOf("t.fixed-window", key), stored)
      const decisions = []
      for (let i = 0; i < 4; i++) decisions.push(await run(RateLimiter.consume(limiter, key)))
      expect(
        decisions.map((d) => [d.allowed, d.remaining]),
        key,
      ).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ])
      expect(await redis.inspect.pttl(keyOf("t.fixed-window", key))).toBeGreaterThan(0)
    }
  })

  it("a key holding another type is a typed StoreUnavailable (rejected), left as it is", async () => {
    const limiter = limiterOf("fixed-window", { limit: 3, windowMillis: 60_000 })
    await redis.inspect.lpush(keyOf("t.fixed-window", "list"), "x")
    await expect(run(RateLimiter.consume(limiter, "list"))).rejects.toMatchObject({
      _tag: "StoreUnavailable",
      reason: "rejected",
    })
    expect(await redis.inspect.type(keyOf("t.fixed-window", "list"))).toBe("list")
  })
})
