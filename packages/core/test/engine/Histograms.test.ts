import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheMetrics } from "@strata/core"
import { Effect, Fiber, Metric } from "effect"
import { TestClock } from "effect/testing"
import { Items, settle } from "./fixtures.ts"

const histogram = (metric: Metric.Histogram<number>, cache: string) =>
  Metric.value(Metric.withAttributes(metric, { cache }))

describe("histograms: loader duration and stale age, labelled with the cache", () => {
  it.effect("a loader taking 50 ms is recorded as one 50 ms observation; a failed one is not", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make({ name: "hist-loader" })
      const fiber = yield* Effect.forkChild(cache.getOrSet(Items, "k", Effect.as(Effect.sleep(50), "v")))
      yield* settle
      yield* TestClock.adjust(50)
      yield* settle
      assert.strictEqual(yield* Fiber.join(fiber), "v")
      yield* Effect.exit(cache.getOrSet(Items, "other", Effect.fail("boom")))
      const state = yield* histogram(CacheMetrics.loaderDuration, "hist-loader")
      assert.strictEqual(state.count, 1)
      assert.strictEqual(state.sum, 50)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())),
  )

  it.effect("a stale value served 90 s past its TTL is recorded as 90,000 ms of stale age", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make({ name: "hist-stale" })
      yield* cache.set(Items, "k", "old")
      yield* TestClock.adjust("150 seconds") // Items: ttl 1 minute, staleFor 10 minutes
      assert.strictEqual(yield* cache.getOrSet(Items, "k", Effect.fail("source down")), "old")
      const state = yield* histogram(CacheMetrics.staleAge, "hist-stale")
      assert.strictEqual(state.count, 1)
      assert.strictEqual(state.sum, 90_000)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())),
  )
})
