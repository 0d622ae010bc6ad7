import { assert, describe, it } from "@effect/vitest"
import { Cache, InvalidValue, Keyspace, LoaderCycle, MemoryBus, MemoryStore } from "@strata/core"
import { Deferred, Effect, Fiber, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Items, leased, settle } from "./fixtures.ts"

/** A loadMany that records the keys of each call and answers `row:<key>`, or nothing for keys starting with "none". */
const recorder = () => {
  const calls: Array<ReadonlyArray<string>> = []
  const loadMany = (keys: ReadonlyArray<string>) =>
    Effect.sync(() => {
      calls.push([...keys])
      return keys.map((k) => (k.startsWith("none") ? undefined : `row:${k}`))
    })
  return { calls, loadMany }
}

describe("getOrSetMany: many keys, one loadMany call for what is missing", () => {
  it.effect(
    "answers from L1 and L2 first, loads the rest in one call, returns in input order, duplicates included",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const cache = yield* Cache.make({}, store)
        yield* cache.set(Items, "in-l1", "l1 value")
        const other = yield* Cache.make({}, store)
        yield* other.set(Items, "in-l2", "l2 value")
        const { calls, loadMany } = recorder()
        const found = yield* cache.getOrSetMany(Items, ["a", "in-l1", "b", "in-l2", "a"], loadMany)
        assert.deepStrictEqual(found, [
          Option.some("row:a"),
          Option.some("l1 value"),
          Option.some("row:b"),
          Option.some("l2 value"),
          Option.some("row:a"),
        ])
        assert.deepStrictEqual(calls, [["a", "b"]])
        // Loaded rows were stored: a fresh cache reads them from L2.
        const fresh = yield* Cache.make({}, store)
        assert.deepStrictEqual(yield* fresh.get(Items, "b"), Option.some("row:b"))
        assert.strictEqual(cache.stats().flightsInProgress, 0)
      }),
  )

  it.effect("a key with no row is None and is not cached: the next call asks again", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make({}, yield* MemoryStore.make())
      const { calls, loadMany } = recorder()
      assert.deepStrictEqual(yield* cache.getOrSetMany(Items, ["none-1", "x"], loadMany), [
        Option.none(),
        Option.some("row:x"),
      ])
      yield* cache.getOrSetMany(Items, ["none-1", "x"], loadMany)
      assert.deepStrictEqual(calls, [["none-1", "x"], ["none-1"]])
    }),
  )

  it.effect("a loadMany returning too few or too many rows fails with InvalidValue and stores nothing", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make({}, yield* MemoryStore.make())
      for (const rows of [["only one"], ["1", "2", "3"]]) {
        const error = yield* Effect.flip(cache.getOrSetMany(Items, ["p", "q"], () => Effect.succeed(rows)))
        assert.instanceOf(error, InvalidValue)
      }
      assert.deepStrictEqual(yield* cache.getMany(Items, ["p", "q"]), [Option.none(), Option.none()])
    }),
  )

  it.effect("a single getOrSet of a key in the batch joins the batch instead of calling its loader", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make({}, yield* MemoryStore.make())
      const gate = yield* Deferred.make<void>()
      const batch = yield* Effect.forkChild(
        cache.getOrSetMany(Items, ["a", "b"], (keys) =>
          Deferred.await(gate).pipe(Effect.as(keys.map((k) => `batch:${k}`))),
        ),
      )
      yield* settle
      let singles = 0
      const single = yield* Effect.forkChild(
        cache.getOrSet(
          Items,
          "b",
          Effect.sync(() => {
            singles++
            return "single"
          }),
        ),
      )
      yield* settle
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual(yield* Fiber.join(single), "batch:b")
      assert.deepStrictEqual(yield* Fiber.join(batch), [Option.some("batch:a"), Option.some("batch:b")])
      assert.strictEqual(singles, 0)
    }),
  )

  it.effect("two caches asking overlapping batches at once load each key once (leases)", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const hub = MemoryBus.hub()
      const a = yield* Cache.make(leased, store, hub.node("a"))
      const b = yield* Cache.make(leased, store, hub.node("b"))
      const loaded: Array<string> = []
      const loadMany = (keys: ReadonlyArray<string>) =>
        Effect.sync(() => loaded.push(...keys)).pipe(
          Effect.andThen(Effect.sleep(100)),
          Effect.as(keys.map((k) => `row:${k}`)),
        )
      const first = yield* Effect.forkChild(a.getOrSetMany(Items, ["k1", "k2", "k3"], loadMany))
      yield* settle
      const second = yield* Effect.forkChild(b.getOrSetMany(Items, ["k2", "k3", "k4"], loadMany))
      for (let i = 0; i < 20; i++) {
        yield* settle
        yield* TestClock.adjust(50)
      }
      assert.deepStrictEqual(
        yield* Fiber.join(first),
        ["k1", "k2", "k3"].map((k) => Option.some(`row:${k}`)),
      )
      assert.deepStrictEqual(
        yield* Fiber.join(second),
        ["k2", "k3", "k4"].map((k) => Option.some(`row:${k}`)),
      )
      assert.deepStrictEqual([...loaded].sort(), ["k1", "k2", "k3", "k4"])
    }),
  )

  it.effect("a loadMany that asks getOrSet for one of its own keys fails with LoaderCycle", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make()
      const error = yield* Effect.flip(
        cache.getOrSetMany(Items, ["a", "b"], () =>
          cache.getOrSet(Items, "b", Effect.succeed("inner")).pipe(Effect.as(["x", "y"])),
        ),
      )
      assert.instanceOf(error, LoaderCycle)
    }),
  )

  it.effect("a row loaded before a delete of its key is not stored after the delete", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const cache = yield* Cache.make({}, store)
      const gate = yield* Deferred.make<void>()
      const batch = yield* Effect.forkChild(
        cache.getOrSetMany(Items, ["d"], () =>
          Deferred.await(gate).pipe(Effect.as(["loaded before the delete"])),
        ),
      )
      yield* settle
      yield* cache.delete(Items, "d")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(batch)
      const fresh = yield* Cache.make({}, store)
      assert.deepStrictEqual(yield* fresh.get(Items, "d"), Option.none())
      assert.strictEqual(cache.peekUnsafe(Items, "d"), undefined)
    }),
  )

  it.effect(
    "a batch that began before its keys' tag was invalidated stores nothing: a fresh cache over the same store misses",
    () =>
      Effect.gen(function* () {
        const Tagged = Keyspace.make({
          name: "engine.tagged",
          key: Schema.String,
          value: Schema.String,
          ttl: "1 minute",
          tags: () => ["all"],
        })
        const store = yield* MemoryStore.make()
        const cache = yield* Cache.make({}, store)
        const gate = yield* Deferred.make<void>()
        const loading = yield* Effect.forkChild(
          cache.getOrSetMany(Tagged, ["a", "b"], (keys) =>
            Effect.as(
              Deferred.await(gate),
              keys.map((k) => `old:${k}`),
            ),
          ),
        )
        yield* settle
        yield* cache.invalidateTag("all")
        yield* Deferred.succeed(gate, undefined)
        // The callers get what the loader returned; the tiers keep out of it.
        assert.deepStrictEqual(yield* Fiber.join(loading), [Option.some("old:a"), Option.some("old:b")])
        const fresh = yield* Cache.make({}, store)
        assert.deepStrictEqual(yield* fresh.getMany(Tagged, ["a", "b"]), [Option.none(), Option.none()])
        assert.deepStrictEqual(yield* cache.getMany(Tagged, ["a", "b"]), [Option.none(), Option.none()])
      }),
  )
})
