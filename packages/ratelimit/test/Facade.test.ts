import { InvalidKey, StoreUnavailable } from "@strata/core"
import {
  createRateLimiter,
  InvalidCost,
  InvalidLimiter,
  RateLimiter,
  RateLimiterClosed,
} from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const Login = RateLimiter.make({
  name: "auth.login",
  key: Schema.Struct({ ip: Schema.String }),
  algorithm: "sliding-log",
  limit: 2,
  window: "1 minute",
})

describe("createRateLimiter", () => {
  it("decides on a memory store by default, and rejects with the tagged errors", async () => {
    const limits = await createRateLimiter()
    const ip = { ip: "10.0.0.1" }
    expect((await limits.consume(Login, ip)).allowed).toBe(true)
    expect((await limits.consume(Login, ip)).allowed).toBe(true)
    const denied = await limits.consume(Login, ip)
    expect(denied.allowed).toBe(false)
    expect(denied.retryAfter).toBeGreaterThan(30_000)
    expect((await limits.refund(Login, ip)).remaining).toBe(1)
    await expect(limits.consume(Login, ip, 3)).rejects.toBeInstanceOf(InvalidCost)
    await limits.close()
    await expect(limits.consume(Login, ip)).rejects.toBeInstanceOf(RateLimiterClosed)
  })

  it("runs on Redis through a layer, and an unreachable Redis is a StoreUnavailable at creation", async () => {
    const server = await RedisHarness.startRedis()
    try {
      const limits = await createRateLimiter({ store: RedisRateStore.layer({ url: server.url }) })
      expect(await limits.consume(Login, { ip: "10.0.0.2" })).toMatchObject({ allowed: true, remaining: 1 })
      await limits.close()
    } finally {
      await RedisHarness.stopAll([server])
    }
    const port = await RedisHarness.freePort()
    await expect(
      createRateLimiter({
        store: RedisRateStore.layer({ url: `redis://127.0.0.1:${port}`, connectTimeoutMillis: 500 }),
      }),
    ).rejects.toBeInstanceOf(StoreUnavailable)
  })
})

describe("createRateLimiter on Redis (decisions without an Effect run)", () => {
  const limiter = (onStoreFailure: "error" | "open" | "closed") =>
    RateLimiter.make({
      name: `api.${onStoreFailure}`,
      key: Schema.String,
      algorithm: "fixed-window",
      limit: 3,
      window: "1 minute",
      onStoreFailure,
    })

  it("rejects bad input typed, decides from Redis, and handles a killed Redis as each limiter declares", async () => {
    const server = await RedisHarness.startRedis()
    const limits = await createRateLimiter({
      store: RedisRateStore.layer({ url: server.url, commandTimeoutMillis: 300 }),
    })
    try {
      const [error, open, closed] = [limiter("error"), limiter("open"), limiter("closed")]
      await expect(limits.consume(error, "u", 4)).rejects.toBeInstanceOf(InvalidCost)
      await expect(limits.consume(error, 42 as never)).rejects.toBeInstanceOf(InvalidKey)
      expect(await limits.consume(error, "u", 3)).toMatchObject({
        allowed: true,
        remaining: 0,
        source: "store",
      })
      expect(await limits.consume(error, "u")).toMatchObject({ allowed: false, source: "store" })
      expect(await limits.refund(error, "u", 2)).toMatchObject({ remaining: 2, source: "store" })
      await server.kill()
      await expect(limits.consume(error, "u")).rejects.toBeInstanceOf(StoreUnavailable)
      expect(await limits.consume(open, "u")).toMatchObject({ allowed: true, source: "fail-open" })
      expect(await limits.consume(closed, "u")).toMatchObject({ allowed: false, source: "fail-closed" })
      // A refund is never failed open or closed.
      await expect(limits.refund(open, "u")).rejects.toBeInstanceOf(StoreUnavailable)
    } finally {
      await limits.close()
      await RedisHarness.stopAll([server])
    }
    await expect(limits.consume(limiter("open"), "u")).rejects.toBeInstanceOf(RateLimiterClosed)
  })
})

describe("bad declarations and arguments (found from outside)", () => {
  it("a key that is not a Schema is reason key; a fractional window is reason window; a non-limiter is InvalidLimiter", async () => {
    const reasonOf = (options: Record<string, unknown>) => {
      try {
        RateLimiter.make({
          name: "api.x",
          key: Schema.String,
          algorithm: "gcra",
          limit: 5,
          window: "1 second",
          ...options,
        } as never)
        return "accepted"
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidLimiter)
        return (error as InvalidLimiter).reason
      }
    }
    for (const key of ["string", undefined, 42]) expect(reasonOf({ key }), String(key)).toBe("key")
    for (const window of [0.4, 1.5, "1.5 millis"]) expect(reasonOf({ window }), String(window)).toBe("window")
    expect(reasonOf({ window: "2 seconds" })).toBe("accepted")
    const limits = await createRateLimiter()
    for (const limiter of [undefined, null, {}, "api.x"])
      await expect(limits.consume(limiter as never, "a"), String(limiter)).rejects.toMatchObject({
        _tag: "InvalidLimiter",
        reason: "option",
      })
    await limits.close()
  })
})

describe("misspelt options", () => {
  it("an unknown option is InvalidLimiter (reason option) for RateLimiter.make and createRateLimiter", async () => {
    const make = () =>
      RateLimiter.make({
        name: "typo",
        key: Schema.String,
        algorithm: "gcra",
        limit: 5,
        window: "1 second",
        onStoreFaliure: "closed",
      } as never)
    expect(make).toThrow(InvalidLimiter)
    try {
      make()
    } catch (error) {
      expect((error as InvalidLimiter).reason).toBe("option")
    }
    await expect(createRateLimiter({ bogus: 1 } as never)).rejects.toBeInstanceOf(InvalidLimiter)
  })
})
