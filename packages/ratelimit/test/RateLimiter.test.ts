import { InvalidKey, StoreUnavailable, Timeout } from "@strata/core"
import { InvalidCost, InvalidLimiter, MemoryRateStore, RateLimiter, RateLimitStore } from "@strata/ratelimit"
import { Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { driven, paramsArbitrary, requestsArbitrary } from "./algorithmSuite.ts"

const base = {
  name: "api.test",
  key: Schema.String,
  algorithm: "fixed-window",
  limit: 5,
  window: "1 second",
} as const

const reasonOf = (options: Record<string, unknown>): string => {
  try {
    RateLimiter.make({ ...base, ...options } as never)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLimiter)
    return (error as InvalidLimiter).reason
  }
  return "accepted"
}

const failureOf = <A, E>(effect: Effect.Effect<A, E, RateLimitStore.RateLimitStore>): unknown => {
  const exit = Effect.runSyncExit(Effect.provide(effect, MemoryRateStore.layer()))
  if (Exit.isSuccess(exit)) return exit.value
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail") as { error: unknown } | undefined
  return reason?.error
}

describe("RateLimiter.make", () => {
  it("refuses a bad declaration with InvalidLimiter and the reason, when it is declared", () => {
    expect(reasonOf({ limit: 0 })).toBe("limit")
    expect(reasonOf({ limit: -3 })).toBe("limit")
    expect(reasonOf({ limit: Number.NaN })).toBe("limit")
    expect(reasonOf({ limit: 1.5 })).toBe("limit")
    expect(reasonOf({ limit: "10" })).toBe("limit")
    expect(reasonOf({ window: 0 })).toBe("window")
    expect(reasonOf({ window: -1 })).toBe("window")
    expect(reasonOf({ window: Number.NaN })).toBe("window")
    expect(reasonOf({ window: "soon" })).toBe("window")
    expect(reasonOf({ window: 2 ** 31 })).toBe("window")
    expect(reasonOf({ name: "Bad Name" })).toBe("name")
    expect(reasonOf({ algorithm: "leaky" })).toBe("algorithm")
    expect(reasonOf({ burst: 10 })).toBe("burst")
    expect(reasonOf({ algorithm: "gcra", burst: 0 })).toBe("burst")
    expect(reasonOf({ algorithm: "gcra", burst: Number.NaN })).toBe("burst")
    expect(reasonOf({ algorithm: "sliding-log", limit: 100_001 })).toBe("range")
    expect(reasonOf({ limit: 2 ** 40, window: "1 day" })).toBe("range")
    expect(reasonOf({ onStoreFailure: "maybe" })).toBe("option")
    expect(reasonOf({ timeoutMillis: 0 })).toBe("option")
    expect(reasonOf({ insurance: { limit: 6 } })).toBe("option")
    expect(reasonOf({ algorithm: "gcra", burst: 7 })).toBe("accepted")
  })
})

describe("RateLimiter.consume", () => {
  const limiter = RateLimiter.make({ ...base, key: Schema.Struct({ userId: Schema.Int }) })

  it("fails with InvalidCost for a cost that is not a count, or over the capacity, before counting anything", () => {
    for (const cost of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "2"]) {
      const error = failureOf(RateLimiter.consume(limiter, { userId: 1 }, cost as number))
      expect(error).toBeInstanceOf(InvalidCost)
      expect((error as InvalidCost).reason).toBe("not-a-count")
    }
    const over = failureOf(RateLimiter.consume(limiter, { userId: 1 }, 6))
    expect(over).toBeInstanceOf(InvalidCost)
    expect((over as InvalidCost).reason).toBe("over-capacity")
    expect(failureOf(RateLimiter.refund(limiter, { userId: 1 }, 0))).toBeInstanceOf(InvalidCost)
  })

  it("fails with InvalidKey for a key that does not match the key schema (wrong type, NaN, missing field)", () => {
    for (const key of [{ userId: "1" }, { userId: Number.NaN }, {}, "1", null, { userId: 1.5 }]) {
      expect(failureOf(RateLimiter.consume(limiter, key as never))).toBeInstanceOf(InvalidKey)
    }
    const strings = RateLimiter.make(base)
    expect(failureOf(RateLimiter.consume(strings, 42 as never))).toBeInstanceOf(InvalidKey)
  })

  it("a weight of exactly the capacity is admitted once, then denied until the window ends", () => {
    const decisions = Effect.runSync(
      Effect.gen(function* () {
        const first = yield* RateLimiter.consume(limiter, { userId: 7 }, 5)
        const second = yield* RateLimiter.consume(limiter, { userId: 7 }, 1)
        return [first, second]
      }).pipe(Effect.provide(MemoryRateStore.layer())),
    )
    expect(decisions[0]).toMatchObject({ allowed: true, remaining: 0, limit: 5, source: "store" })
    expect(decisions[1]).toMatchObject({ allowed: false, remaining: 0 })
    expect(decisions[1]!.retryAfter).toBeGreaterThan(0)
    expect(decisions[1]!.retryAfter).toBeLessThanOrEqual(1_000)
  })
})

describe("storage keys", () => {
  it("two limiters never share state, even for the same key and algorithm", () => {
    const a = RateLimiter.make({ ...base, name: "api.a", limit: 1 })
    const b = RateLimiter.make({ ...base, name: "api.b", limit: 1 })
    const decisions = Effect.runSync(
      Effect.all([
        RateLimiter.consume(a, "u"),
        RateLimiter.consume(b, "u"),
        RateLimiter.consume(a, "u"),
      ]).pipe(Effect.provide(MemoryRateStore.layer())),
    )
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false])
    expect(a.storeKey("u")).toBe("api.a:v1:'u'")
  })
})

describe("store failures", () => {
  const failing = (error: StoreUnavailable | Timeout) =>
    Effect.provideService(RateLimitStore.RateLimitStore, { name: "broken", apply: () => Effect.fail(error) })
  const down = new StoreUnavailable({
    store: "broken",
    operation: "apply",
    reason: "unreachable",
    message: "down",
  })
  const make = (options: Partial<RateLimiter.Options<typeof Schema.String>>) =>
    RateLimiter.make({ ...base, ...options })

  it('"error" (the default) fails with the store error; "open" admits; "closed" denies', () => {
    const exit = Effect.runSyncExit(RateLimiter.consume(make({}), "u").pipe(failing(down)))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(
      Effect.runSync(RateLimiter.consume(make({ onStoreFailure: "open" }), "u").pipe(failing(down))),
    ).toMatchObject({ allowed: true, source: "fail-open" })
    const closed = Effect.runSync(
      RateLimiter.consume(make({ onStoreFailure: "closed" }), "u").pipe(failing(down)),
    )
    expect(closed).toMatchObject({ allowed: false, source: "fail-closed", retryAfter: 1_000 })
  })

  it("a store slower than timeoutMillis is a Timeout, handled like any store failure", async () => {
    const slow = Effect.provideService(RateLimitStore.RateLimitStore, {
      name: "slow",
      apply: () => Effect.never,
    })
    const strict = make({ timeoutMillis: 50 })
    const exit = await Effect.runPromiseExit(RateLimiter.consume(strict, "u").pipe(slow))
    expect(
      Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Fail" && r.error instanceof Timeout),
    ).toBe(true)
    const open = make({ timeoutMillis: 50, onStoreFailure: "open" })
    expect(await Effect.runPromise(RateLimiter.consume(open, "u").pipe(slow))).toMatchObject({
      source: "fail-open",
    })
  })

  it("insurance: while the store fails, an in-process limiter admits at most its own limit per window", () => {
    const insured = make({ insurance: { limit: 2 } })
    const decisions = Effect.runSync(
      Effect.forEach([1, 2, 3, 4], () => RateLimiter.consume(insured, "u")).pipe(failing(down)),
    )
    expect(decisions.map((d) => [d.allowed, d.source])).toEqual([
      [true, "insurance"],
      [true, "insurance"],
      [false, "insurance"],
      [false, "insurance"],
    ])
  })
})

describe("token bucket and GCRA", () => {
  it("make exactly the same decisions for the same limit, window, burst and traffic (refunds included)", () => {
    fc.assert(
      fc.property(
        paramsArbitrary("gcra").chain((params) =>
          fc.tuple(
            fc.constant(params),
            requestsArbitrary(params.burst, params.windowMillis),
            fc.array(fc.boolean()),
          ),
        ),
        ([params, requests, refunds]) => {
          const bucket = driven("token-bucket", params)
          const gcra = driven("gcra", params)
          let t = 1_700_000_000_000
          requests.forEach(({ dt, cost }, i) => {
            t += dt
            bucket.at(t)
            gcra.at(t)
            if (refunds[i] === true) expect(bucket.refund("k", cost)).toEqual(gcra.refund("k", cost))
            else expect(bucket.consume("k", cost)).toEqual(gcra.consume("k", cost))
          })
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe("window bounds", () => {
  it("fixed window admits up to 2× the limit across a boundary (documented); sliding log never more than the limit", () => {
    const params = { limit: 10, windowMillis: 1_000, burst: 10 }
    const fixed = driven("fixed-window", params)
    const log = driven("sliding-log", params)
    let fixedAdmitted = 0
    let logAdmitted = 0
    for (const t of [999, 1_000]) {
      fixed.at(1_700_000_000_000 + t)
      log.at(1_700_000_000_000 + t)
      for (let i = 0; i < 10; i++) {
        if (fixed.consume("k", 1).allowed) fixedAdmitted++
        if (log.consume("k", 1).allowed) logAdmitted++
      }
    }
    expect(fixedAdmitted).toBe(20)
    expect(logAdmitted).toBe(10)
  })

  it("sliding window counter: a burst at the end of one window then steady requests never pass the limit within a window", () => {
    // The case that let the two-count estimate admit 19 for a limit of 10.
    const params = { limit: 10, windowMillis: 1_000, burst: 10 }
    const counter = driven("sliding-window", params)
    const base = 1_700_000_000_000
    const admittedAt: Array<number> = []
    for (let t = 990; t < 3_000; t += 10) {
      counter.at(base + t)
      for (let i = 0; i < (t === 990 ? 10 : 1); i++) if (counter.consume("k", 1).allowed) admittedAt.push(t)
    }
    const worst = Math.max(...admittedAt.map((t) => admittedAt.filter((u) => u > t - 1_000 && u <= t).length))
    expect(worst).toBe(10)
    // The sliding log admits 21 here: each request counts up to a tenth of a window longer.
    expect(admittedAt.length).toBe(20)
  })

  it("sliding log and sliding window counter: within any window ms, never more than the limit (random arrivals, costs and refunds)", () => {
    for (const algorithm of ["sliding-log", "sliding-window"] as const) {
      fc.assert(
        fc.property(
          paramsArbitrary(algorithm),
          fc.array(
            fc.record({
              dt: fc.integer({ min: 0, max: 30 }),
              cost: fc.integer({ min: 1, max: 5 }),
              refund: fc.boolean(),
            }),
            { maxLength: 80 },
          ),
          (params, requests) => {
            const limiter = driven(algorithm, params)
            const counted: Array<{ at: number; cost: number }> = []
            let t = 1_700_000_000_000
            for (const { dt, cost, refund } of requests) {
              t += dt
              limiter.at(t)
              if (cost > params.limit) continue
              if (limiter.consume("k", cost).allowed) {
                counted.push({ at: t, cost })
                // A refund right after its consume takes it back: it no longer counts.
                if (refund) {
                  limiter.refund("k", cost)
                  counted.pop()
                }
              }
              const inWindow = counted.filter((a) => a.at > t - params.windowMillis)
              expect(inWindow.reduce((n, a) => n + a.cost, 0)).toBeLessThanOrEqual(params.limit)
            }
          },
        ),
        { numRuns: 300 },
      )
    }
  })
})
