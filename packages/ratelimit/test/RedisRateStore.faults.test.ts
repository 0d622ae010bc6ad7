/**
 * Redis killed mid-run (SIGKILL): each limiter answers as it declared, within
 * its decision timeout, and decides on Redis again once it is back.
 */
import { StoreUnavailable, Timeout } from "@strata/core"
import { RateLimiter, RateLimitStore } from "@strata/ratelimit"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { limiterOf, openRedis, RedisHarness, runWith } from "./redisHelpers.ts"

let server: RedisHarness.RedisServer
let redis: Awaited<ReturnType<typeof openRedis>>
let run: ReturnType<typeof runWith>

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  redis = await openRedis(server.url, { commandTimeoutMillis: 200, connectTimeoutMillis: 2_000 })
  run = runWith(redis.store)
})
afterAll(async () => {
  await redis?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

const numbers = { limit: 3, windowMillis: 60_000 }
const open = limiterOf("gcra", numbers, { onStoreFailure: "open", timeoutMillis: 500 })
const closed = limiterOf("sliding-window", numbers, { onStoreFailure: "closed", timeoutMillis: 500 })
const strict = limiterOf("fixed-window", numbers, { timeoutMillis: 500 })
const insured = limiterOf("token-bucket", numbers, { insurance: { limit: 2 }, timeoutMillis: 500 })

const timed = async <A>(f: () => Promise<A>) => {
  const started = performance.now()
  const value = await f()
  return { value, millis: performance.now() - started }
}

describe("Redis killed mid-run", () => {
  it("while 16 callers are deciding, every decision is from Redis or fail-closed, and none throws", async () => {
    const victim = await RedisHarness.startRedis()
    const local = await openRedis(victim.url, { commandTimeoutMillis: 200, connectTimeoutMillis: 2_000 })
    const decide = runWith(local.store)
    const sources: Array<string> = []
    let stop = false
    const lanes = Array.from({ length: 16 }, async (_, lane) => {
      while (!stop) sources.push((await decide(RateLimiter.consume(closed, `lane-${lane}`))).source)
    })
    // Polls (the machine may be loaded): at most `millis` until `check` holds.
    const until = async (check: () => boolean, millis = 10_000) => {
      const deadline = Date.now() + millis
      while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    try {
      await until(() => sources.length >= 16)
      await victim.kill()
      const killedAt = sources.length
      await until(() => sources.slice(killedAt).includes("fail-closed"))
      stop = true
      await Promise.all(lanes)
      expect(new Set(sources)).toEqual(new Set(["store", "fail-closed"]))
      expect(sources.slice(0, killedAt)).toContain("store")
      expect(sources.slice(killedAt)).toContain("fail-closed")
    } finally {
      stop = true
      await local.close()
      await RedisHarness.stopAll([victim])
    }
  })

  it("fail-open admits, fail-closed denies, the default fails typed, insurance limits in-process; all within the timeout", async () => {
    for (const limiter of [open, closed, strict, insured])
      expect(await run(RateLimiter.consume(limiter, "u"))).toMatchObject({ allowed: true, source: "store" })
    await server.kill()

    const o = await timed(() => run(RateLimiter.consume(open, "u")))
    expect(o.value).toMatchObject({ allowed: true, source: "fail-open" })
    const c = await timed(() => run(RateLimiter.consume(closed, "u")))
    expect(c.value).toMatchObject({ allowed: false, source: "fail-closed", retryAfter: 1_000 })
    const s = await timed(() =>
      Effect.runPromiseExit(
        Effect.provideService(RateLimiter.consume(strict, "u"), RateLimitStore.RateLimitStore, redis.store),
      ),
    )
    expect(Exit.isFailure(s.value)).toBe(true)
    const error = Exit.isFailure(s.value)
      ? (s.value.cause.reasons.find((r) => r._tag === "Fail") as { error: unknown } | undefined)?.error
      : undefined
    expect(error instanceof StoreUnavailable || error instanceof Timeout).toBe(true)
    const insurance = []
    for (let i = 0; i < 4; i++) insurance.push(await run(RateLimiter.consume(insured, "u")))
    expect(insurance.map((d) => [d.allowed, d.source])).toEqual([
      [true, "insurance"],
      [true, "insurance"],
      [false, "insurance"],
      [false, "insurance"],
    ])
    // Decision timeout 500 ms; ×4 margin for a loaded machine.
    for (const { millis } of [o, c, s]) expect(millis).toBeLessThan(2_000)
  })

  it("once Redis is back, decisions come from Redis again", async () => {
    await server.restart()
    const deadline = Date.now() + 10_000
    let source = ""
    while (Date.now() < deadline) {
      source = (await run(RateLimiter.consume(closed, "back"))).source
      if (source === "store") break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(source).toBe("store")
  })
})
