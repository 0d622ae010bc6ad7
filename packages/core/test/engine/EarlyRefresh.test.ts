import { assert, describe, it } from "@effect/vitest"
import { Cache, Keyspace, MemoryBus, MemoryStore } from "@strata/core"
import { Effect, Schema } from "effect"
import { TestClock } from "effect/testing"
import { settle } from "./fixtures.ts"

const hot = (earlyRefresh: number) =>
  Keyspace.make({
    name: "engine.hot",
    key: Schema.String,
    value: Schema.Number,
    ttl: "1 second",
    earlyRefresh,
  })

/** A loader taking 50 ms that counts its calls and returns the call number. */
const counted = () => {
  const calls = { loads: 0 }
  const load = Effect.suspend(() => {
    const n = ++calls.loads
    return Effect.as(Effect.sleep(50), n)
  })
  return { calls, load }
}

/** Calls getOrSet on every cache every 10 ms for `millis` of test time. */
const hammer = (
  caches: ReadonlyArray<Cache.Service>,
  keyspace: Keyspace.Keyspace<string, number>,
  load: Effect.Effect<number>,
  millis: number,
) =>
  Effect.gen(function* () {
    for (let t = 0; t < millis; t += 10) {
      for (const cache of caches) yield* Effect.forkChild(cache.getOrSet(keyspace, "k", load))
      yield* settle
      yield* TestClock.adjust(10)
    }
    yield* TestClock.adjust(100)
    yield* settle
  })

describe("early refresh (XFetch): a hot key is reloaded before it expires", () => {
  it.effect(
    "with earlyRefresh, a key read every 10 ms misses once (cold) over 5 TTLs; without it, once per TTL",
    () =>
      Effect.gen(function* () {
        const withEarly = yield* Cache.make()
        const early = counted()
        yield* hammer([withEarly], hot(2), early.load, 5_000)
        assert.strictEqual(withEarly.stats().misses, 1, "only the cold read misses")
        assert.isAtLeast(withEarly.stats().earlyRefreshes, 4)
        assert.isAtLeast(early.calls.loads, 5)
        assert.isAtMost(early.calls.loads, 11, "about one reload per TTL, not one per read")

        const without = yield* Cache.make()
        const plain = counted()
        yield* hammer([without], hot(0), plain.load, 5_000)
        assert.isAtLeast(without.stats().misses, 5, "one miss per TTL")
        assert.strictEqual(without.stats().earlyRefreshes, 0)
      }),
  )

  it.effect(
    "two caches over one store with leases: no miss after the cold one, and one reload per refresh across both",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        const options = { lease: { ttl: "1 second", pollInterval: "20 millis" } } as const
        const a = yield* Cache.make(options, store, hub.node("a"))
        const b = yield* Cache.make(options, store, hub.node("b"))
        const loader = counted()
        yield* hammer([a, b], hot(2), loader.load, 100)
        const cold = a.stats().misses + b.stats().misses
        assert.strictEqual(loader.calls.loads, 1, "the cold key is loaded once")
        yield* hammer([a, b], hot(2), loader.load, 5_000)
        assert.strictEqual(a.stats().misses + b.stats().misses, cold, "no miss after the cold reads")
        assert.isAtLeast(loader.calls.loads, 5)
        assert.isAtMost(loader.calls.loads, 11, "the lease lets one cache reload each time")
      }),
  )

  it("a bad beta is an InvalidKeyspace at declaration", () => {
    for (const beta of [-1, Number.NaN, Number.POSITIVE_INFINITY, "1" as never])
      assert.throws(() => hot(beta), /earlyRefresh/)
  })
})
