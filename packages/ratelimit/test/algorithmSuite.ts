/**
 * The properties every algorithm must hold on the memory store, driven by
 * fast-check with a clock the test moves. Each algorithm's test file calls
 * {@link algorithmSuite} with its name.
 */
import { type Algorithm, MemoryRateStore, RateLimiter, RateLimitStore } from "@strata/ratelimit"
import { Effect, Schema } from "effect"
import fc from "fast-check"
import { expect, it } from "vitest"
import { capacityOf, decide, type ModelParams } from "./referenceModel.ts"

const bucket = (algorithm: Algorithm.Name) => algorithm === "token-bucket" || algorithm === "gcra"

/** Random limiter numbers small enough for the brute-force model. */
export const paramsArbitrary = (algorithm: Algorithm.Name) =>
  fc
    .record({
      limit: fc.integer({ min: 1, max: 5 }),
      windowMillis: fc.integer({ min: 1, max: 20 }),
      burst: fc.integer({ min: 1, max: 6 }),
    })
    .map((p): ModelParams => (bucket(algorithm) ? p : { ...p, burst: p.limit }))

/** Requests: a time step (ms, often 0 so several requests share an instant) and a cost within the capacity. */
export const requestsArbitrary = (capacity: number, windowMillis: number) =>
  fc.array(
    fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 * windowMillis + 1 })),
      cost: fc.integer({ min: 1, max: capacity }),
    }),
    { maxLength: 40 },
  )

/** A limiter and a memory store on a driven clock; `at(t)` sets the clock. */
export const driven = (algorithm: Algorithm.Name, params: ModelParams) => {
  let now = 0
  const store = MemoryRateStore.make({ clock: () => now })
  const limiter = RateLimiter.make({
    name: "test.limiter",
    key: Schema.String,
    algorithm,
    limit: params.limit,
    window: params.windowMillis,
    ...(bucket(algorithm) ? { burst: params.burst } : {}),
  })
  const run = <A, E>(effect: Effect.Effect<A, E, RateLimitStore.RateLimitStore>) =>
    Effect.runSync(Effect.provideService(effect, RateLimitStore.RateLimitStore, store))
  return {
    at: (t: number) => {
      now = t
    },
    consume: (key: string, cost: number) => run(RateLimiter.consume(limiter, key, cost)),
    refund: (key: string, amount: number) => run(RateLimiter.refund(limiter, key, amount)),
  }
}

const start = 1_700_000_000_000

/** The shared properties; `numRuns` is kept modest (the model is brute force). */
export const algorithmSuite = (algorithm: Algorithm.Name) => {
  it(`${algorithm}: every decision (allowed, remaining, resetAt, retryAfter) equals the reference model's`, () => {
    fc.assert(
      fc.property(
        paramsArbitrary(algorithm).chain((params) =>
          fc.tuple(
            fc.constant(params),
            requestsArbitrary(capacityOf(algorithm, params), params.windowMillis),
          ),
        ),
        ([params, requests]) => {
          const limiter = driven(algorithm, params)
          const history: Array<{ at: number; cost: number }> = []
          let t = start
          for (const { dt, cost } of requests) {
            t += dt
            limiter.at(t)
            const got = limiter.consume("k", cost)
            const want = decide(algorithm, params, history, t, cost)
            expect({ ...got, limit: undefined, source: undefined }).toEqual({
              ...want,
              limit: undefined,
              source: undefined,
            })
            expect(got.limit).toBe(capacityOf(algorithm, params))
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it(`${algorithm}: consuming then refunding the same cost at the same instant changes no later decision`, () => {
    fc.assert(
      fc.property(
        paramsArbitrary(algorithm).chain((params) =>
          fc.tuple(
            fc.constant(params),
            requestsArbitrary(capacityOf(algorithm, params), params.windowMillis),
            fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
          ),
        ),
        ([params, requests, refundAfter]) => {
          const plain = driven(algorithm, params)
          const refunded = driven(algorithm, params)
          let t = start
          requests.forEach(({ dt, cost }, i) => {
            t += dt
            plain.at(t)
            refunded.at(t)
            if (refundAfter[i] === true) {
              const extra = refunded.consume("k", cost)
              if (extra.allowed) refunded.refund("k", cost)
            }
            expect(refunded.consume("k", cost)).toEqual(plain.consume("k", cost))
          })
        },
      ),
      { numRuns: 100 },
    )
  })

  it(`${algorithm}: keys are independent: another key's traffic changes nothing`, () => {
    const params = { limit: 3, windowMillis: 1_000, burst: 3 }
    const limiter = driven(algorithm, params)
    limiter.at(start)
    for (let i = 0; i < 3; i++) expect(limiter.consume("a", 1).allowed).toBe(true)
    expect(limiter.consume("a", 1).allowed).toBe(false)
    expect(limiter.consume("b", 1)).toMatchObject({ allowed: true, remaining: 2 })
  })
}
