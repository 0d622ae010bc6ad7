import { assert, describe, it } from "@effect/vitest"
import { Cache, LoaderCycle, MemoryBus, MemoryStore, Timeout } from "@strata/core"
import { Deferred, Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { countingLoader, events, Items, leased, settle } from "./fixtures.ts"

describe("flights: every load in flight for a key is joined by later callers in the process", () => {
  it.effect(
    "a background refresh left running by a soft timeout is joined by later callers: 10 callers over 100 ms, one load, each served stale at its own soft timeout",
    () =>
      Effect.gen(function* () {
        const cache = yield* Cache.make()
        const seen = events(cache)
        yield* cache.set(Items, "k", "old")
        yield* TestClock.adjust("2 minutes")
        const { calls, load } = countingLoader(1_000)
        const callers = []
        for (let i = 0; i < 10; i++) {
          callers.push(
            yield* Effect.forkChild(cache.getOrSet(Items, "k", load("new"), { softTimeout: "50 millis" })),
          )
          yield* settle
          yield* TestClock.adjust(10)
        }
        yield* TestClock.adjust(50)
        for (const caller of callers) assert.strictEqual(yield* Fiber.join(caller), "old")
        assert.strictEqual(calls.loads, 1, "the refresh is shared")
        assert.strictEqual(seen.filter((e) => e._tag === "StaleServed").length, 10)
        assert.strictEqual(cache.stats().coalesced, 9)
        yield* TestClock.adjust(1_000)
        yield* settle
        assert.deepStrictEqual(yield* cache.get(Items, "k"), Option.some("new"))
        assert.strictEqual(cache.stats().flightsInProgress, 0)
      }),
  )

  it.effect(
    "the soft timeout bounds a wait on another cache's lease: a caller holding a stale value is served it instead of waiting for the holder",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        const a = yield* Cache.make(leased, store, hub.node("a"))
        const b = yield* Cache.make(leased, store, hub.node("b"))
        yield* b.set(Items, "k", "old")
        yield* TestClock.adjust("2 minutes")
        // a holds the lease while its slow loader runs.
        const { calls, load } = countingLoader(800)
        const holder = yield* Effect.forkChild(a.getOrSet(Items, "k", load("new")))
        yield* settle
        const waiter = yield* Effect.forkChild(
          b.getOrSet(Items, "k", load("from b"), { softTimeout: "100 millis" }),
        )
        yield* settle
        yield* TestClock.adjust(100)
        yield* settle
        assert.strictEqual(waiter.pollUnsafe() !== undefined, true, "b answered at its soft timeout")
        assert.strictEqual(yield* Fiber.join(waiter), "old")
        yield* TestClock.adjust(700)
        assert.strictEqual(yield* Fiber.join(holder), "new")
        assert.strictEqual(calls.loads, 1, "b never loaded: it waited on a's lease in the background")
      }),
  )

  it.effect("a failed load reaches every joined caller, and is not remembered for the next one", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make({ l1: false, lease: false })
      const gate = yield* Deferred.make<void>()
      const failing = Deferred.await(gate).pipe(Effect.andThen(Effect.fail("boom" as const)))
      const callers = yield* Effect.all(
        Array.from({ length: 3 }, () => Effect.forkChild(Effect.flip(cache.getOrSet(Items, "k", failing)))),
      )
      yield* settle
      yield* Deferred.succeed(gate, undefined)
      for (const caller of callers) assert.strictEqual(yield* Fiber.join(caller), "boom")
      assert.strictEqual(yield* cache.getOrSet(Items, "k", Effect.succeed("fine")), "fine")
    }),
  )
})

describe("loader cycles fail with LoaderCycle instead of waiting for ever", () => {
  it.effect("a loader that asks for its own key", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make()
      const self: Effect.Effect<string, unknown> = Effect.suspend(() => cache.getOrSet(Items, "k", self))
      const error = yield* Effect.flip(cache.getOrSet(Items, "k", self))
      assert.instanceOf(error, LoaderCycle)
      assert.strictEqual((error as LoaderCycle).keyspace, Items.id)
      assert.strictEqual(cache.stats().flightsInProgress, 0)
    }),
  )

  it.effect("a loader of a that asks for b whose loader asks for a", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make()
      const loadA: Effect.Effect<string, unknown> = Effect.suspend(() => cache.getOrSet(Items, "b", loadB))
      const loadB: Effect.Effect<string, unknown> = Effect.suspend(() => cache.getOrSet(Items, "a", loadA))
      const error = yield* Effect.flip(cache.getOrSet(Items, "a", loadA))
      assert.instanceOf(error, LoaderCycle)
    }),
  )

  it.effect("a loader that joins another caller's flight which waits on it (a cycle through a join)", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make()
      const gate = yield* Deferred.make<void>()
      // x's loader waits for the gate, then asks for y; y's loader asks for x.
      const loadX: Effect.Effect<string, unknown> = Deferred.await(gate).pipe(
        Effect.andThen(cache.getOrSet(Items, "y", Effect.succeed("y"))),
      )
      const loadY: Effect.Effect<string, unknown> = Effect.suspend(() => cache.getOrSet(Items, "x", loadX))
      const x = yield* Effect.forkChild(cache.getOrSet(Items, "x", loadX))
      yield* settle
      const y = yield* Effect.forkChild(Effect.flip(cache.getOrSet(Items, "y", loadY)))
      yield* settle
      yield* Deferred.succeed(gate, undefined)
      // y's loader joined x's flight; x's loader then joins y's flight, which waits on x: a cycle.
      const outcome = yield* Fiber.join(x).pipe(Effect.flip)
      assert.instanceOf(outcome, LoaderCycle)
      void y
    }),
  )
})

describe("loader timeouts", () => {
  it.effect(
    "past the soft timeout a stale value is served at once, and the load finishes in the background and fills the cache",
    () =>
      Effect.gen(function* () {
        const cache = yield* Cache.make()
        const seen = events(cache)
        yield* cache.set(Items, "k", "old")
        yield* TestClock.adjust("2 minutes")
        const release = yield* Deferred.make<void>()
        const slow = Deferred.await(release).pipe(Effect.as("new"))
        const fiber = yield* Effect.forkChild(cache.getOrSet(Items, "k", slow, { softTimeout: "100 millis" }))
        for (let i = 0; i < 5; i++) yield* Effect.yieldNow
        yield* TestClock.adjust(100)
        assert.strictEqual(yield* Fiber.join(fiber), "old")
        assert.deepStrictEqual(
          seen.map((e) => e._tag === "StaleServed" && e.reason),
          ["soft timeout"],
        )
        yield* Deferred.succeed(release, undefined)
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow
        assert.deepStrictEqual(yield* cache.get(Items, "k"), Option.some("new"))
        assert.strictEqual(cache.stats().fillsInFlight, 0)
      }),
  )

  it.effect("with no stale value the soft timeout does not apply: callers wait for the load", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make()
      const fiber = yield* Effect.forkChild(
        cache.getOrSet(Items, "cold", Effect.sleep(500).pipe(Effect.as("v")), { softTimeout: "100 millis" }),
      )
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow
      yield* TestClock.adjust(500)
      assert.strictEqual(yield* Fiber.join(fiber), "v")
    }),
  )

  it.effect(
    "past the hard timeout the loader is interrupted and the call fails with Timeout (or serves stale)",
    () =>
      Effect.gen(function* () {
        const cache = yield* Cache.make()
        let interrupted = false
        const never = Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (interrupted = true))))
        const fiber = yield* Effect.forkChild(
          Effect.flip(cache.getOrSet(Items, "cold", never, { hardTimeout: "1 second" })),
        )
        for (let i = 0; i < 5; i++) yield* Effect.yieldNow
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(fiber)
        assert.instanceOf(error, Timeout)
        assert.isTrue(interrupted)
        yield* cache.set(Items, "warm", "old")
        yield* TestClock.adjust("2 minutes")
        const stale = yield* Effect.forkChild(
          cache.getOrSet(Items, "warm", Effect.never, { hardTimeout: "1 second" }),
        )
        for (let i = 0; i < 5; i++) yield* Effect.yieldNow
        yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* Fiber.join(stale), "old")
      }),
  )
})
