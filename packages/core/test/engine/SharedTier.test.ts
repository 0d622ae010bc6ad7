import { assert, describe, it } from "@effect/vitest"
import { Cache, MemoryStore } from "@strata/core"
import { Effect, Option, Tracer } from "effect"
import { TestClock } from "effect/testing"
import { events, flaky, Items } from "./fixtures.ts"

describe("circuit breaker on the shared tier", () => {
  it.effect(
    "opens after repeated failures (calls fail fast, getOrSet falls back to the loader), probes after the cooldown, and closes",
    () =>
      Effect.gen(function* () {
        const { store, state } = flaky(yield* MemoryStore.make())
        const cache = yield* Cache.make(
          { l1: false, circuitBreaker: { failures: 3, cooldown: "5 seconds" } },
          store,
        )
        const seen = events(cache)
        state.down = true
        // A failing tier is a miss for get, reported as StoreFailed events.
        for (let i = 0; i < 3; i++) assert.deepStrictEqual(yield* cache.get(Items, "k"), Option.none())
        assert.strictEqual(seen.filter((e) => e._tag === "StoreFailed").length, 3)
        assert.strictEqual(cache.stats().l2Errors, 3)
        assert.strictEqual(cache.stats().circuit, "open")
        const callsWhenOpen = state.calls
        assert.deepStrictEqual(yield* cache.get(Items, "k"), Option.none())
        assert.strictEqual(state.calls, callsWhenOpen, "no call reached the store while open")
        assert.strictEqual(yield* cache.getOrSet(Items, "k", Effect.succeed("from loader")), "from loader")
        state.down = false
        yield* TestClock.adjust("5 seconds")
        assert.deepStrictEqual(yield* cache.get(Items, "k"), Option.none())
        assert.strictEqual(cache.stats().circuit, "closed")
        assert.deepStrictEqual(
          seen.filter((e) => e._tag === "CircuitChanged").map((e) => (e as { state: string }).state),
          ["open", "half-open", "closed"],
        )
      }),
  )

  it.effect(
    "with l2ReadErrors: fail, get fails with the store's error (circuit-open once open) instead of a miss",
    () =>
      Effect.gen(function* () {
        const { store, state } = flaky(yield* MemoryStore.make())
        const cache = yield* Cache.make(
          { l1: false, l2ReadErrors: "fail", circuitBreaker: { failures: 2 } },
          store,
        )
        state.down = true
        for (let i = 0; i < 2; i++) {
          const error = yield* Effect.flip(cache.get(Items, "k"))
          assert.strictEqual(error._tag === "StoreUnavailable" && error.reason, "unreachable")
        }
        const open = yield* Effect.flip(cache.getMany(Items, ["k"]))
        assert.strictEqual(open._tag === "StoreUnavailable" && open.reason, "circuit-open")
      }),
  )

  it.effect("when the tier comes back, L1 is reconciled: it may have missed invalidations", () =>
    Effect.gen(function* () {
      const { store, state } = flaky(yield* MemoryStore.make())
      const cache = yield* Cache.make({ circuitBreaker: { failures: 1, cooldown: "1 second" } }, store)
      yield* cache.set(Items, "k", "v1")
      assert.strictEqual(cache.peekUnsafe(Items, "k"), "v1")
      state.down = true
      yield* Effect.exit(cache.set(Items, "other", "x"))
      assert.strictEqual(cache.stats().circuit, "open")
      state.down = false
      yield* TestClock.adjust("1 second")
      yield* cache.get(Items, "probe")
      assert.strictEqual(cache.stats().circuit, "closed")
      assert.strictEqual(cache.peekUnsafe(Items, "k"), undefined)
    }),
  )
})

describe("tracing", () => {
  it.effect(
    "with a tracer installed, L2 and loader calls run in spans named strata.l2.<operation> and strata.loader",
    () =>
      Effect.gen(function* () {
        const names: Array<string> = []
        const tracer = Tracer.make({
          span: (options) => {
            names.push(options.name)
            return new Tracer.NativeSpan(options)
          },
        })
        const program = Effect.gen(function* () {
          const cache = yield* Cache.make({}, yield* MemoryStore.make())
          yield* cache.getOrSet(Items, "k", Effect.succeed("v"))
          yield* cache.set(Items, "j", "w")
        })
        yield* program.pipe(Effect.provideService(Tracer.Tracer, tracer))
        assert.includeMembers(names, ["strata.l2.get", "strata.loader", "strata.l2.fill", "strata.l2.set"])
      }),
  )
})
