import { assert, describe, it } from "@effect/vitest"
import { Cache, MemoryBus, MemoryStore, type Store } from "@strata/core"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Items, settle } from "./fixtures.ts"

describe("the bus", () => {
  it.effect(
    "an invalidation from another cache drops the L1 copy; while the bus is down only copies younger than busDownMaxTtl serve, and a reconnect drops all of L1",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        const a = yield* Cache.make({}, store, hub.node("a"))
        const b = yield* Cache.make({ l1: { busDownMaxTtl: "2 seconds" } }, store, hub.node("b"))
        yield* a.set(Items, "k", "v1")
        yield* b.get(Items, "k")
        assert.strictEqual(b.peekUnsafe(Items, "k"), "v1")
        yield* a.set(Items, "k", "v2")
        assert.strictEqual(b.peekUnsafe(Items, "k"), undefined)
        yield* b.get(Items, "k")
        assert.strictEqual(b.peekUnsafe(Items, "k"), "v2")
        yield* TestClock.adjust("3 seconds")
        hub.gap("test: link lost", false)
        assert.strictEqual(
          b.peekUnsafe(Items, "k"),
          undefined,
          "a copy older than busDownMaxTtl does not serve",
        )
        assert.strictEqual(b.stats().gaps, 1)
        assert.strictEqual(b.stats().l1Entries, 1, "it is kept for fail-safe reads")
        yield* b.get(Items, "k")
        assert.strictEqual(b.peekUnsafe(Items, "k"), "v2", "a copy just read serves")
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(b.peekUnsafe(Items, "k"), "v2", "for busDownMaxTtl")
        yield* TestClock.adjust(1)
        assert.strictEqual(b.peekUnsafe(Items, "k"), undefined, "and no longer")
        hub.gap("test: link back", true)
        assert.strictEqual(b.stats().l1Entries, 0, "a reconnect drops L1: invalidations may have been missed")
        yield* b.get(Items, "k")
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual(b.peekUnsafe(Items, "k"), "v2", "back to the entry's own TTL")
      }),
  )

  it.effect(
    "while the bus is down, a copy read from L2 is as old as the read: a reply that arrived late serves no longer than busDownMaxTtl after the read began",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        // A publishes where B does not listen: B never hears of its write.
        const a = yield* Cache.make({}, store, MemoryBus.hub().node("a"))
        yield* a.set(Items, "k", "v1")
        // B's store answers 1.5 s late with what it read when asked, as a slow link would.
        const slow: Store.Service = {
          ...store,
          versioned: {
            ...store.versioned!,
            get: (space, key) =>
              Effect.flatMap(store.versioned!.get(space, key), (found) =>
                Effect.as(Effect.sleep(1_500), found),
              ),
          },
        }
        const b = yield* Cache.make({ l1: { busDownMaxTtl: "2 seconds" } }, slow, hub.node("b"))
        hub.gap("test: link lost", false)
        const reading = yield* Effect.forkChild(b.get(Items, "k"))
        yield* settle
        yield* TestClock.adjust(100)
        yield* a.set(Items, "k", "v2") // B's bus is down: it never hears of this
        yield* TestClock.adjust(1_400)
        yield* Fiber.join(reading)
        assert.strictEqual(b.peekUnsafe(Items, "k"), "v1", "served within busDownMaxTtl of the read")
        yield* TestClock.adjust(600)
        assert.strictEqual(b.peekUnsafe(Items, "k"), undefined, "not 2 s after the reply, 2 s after the read")
      }),
  )
})
