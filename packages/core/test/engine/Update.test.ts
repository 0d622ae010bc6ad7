import { assert, describe, it } from "@effect/vitest"
import {
  Cache,
  Keyspace,
  LoaderFailed,
  MemoryBus,
  MemoryStore,
  type Store,
  UpdateConflict,
} from "@strata/core"
import { Effect, Fiber, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { settle } from "./fixtures.ts"

const Carts = Keyspace.make({
  name: "update.cart",
  key: Schema.String,
  value: Schema.Struct({ items: Schema.Array(Schema.String), count: Schema.Int }),
  ttl: "1 hour",
})
type Cart = Keyspace.Value<typeof Carts>
const add =
  (item: string) =>
  (cart: Cart | undefined): Cart => ({ items: [...(cart?.items ?? []), item], count: (cart?.count ?? 0) + 1 })

describe("update: read-modify-write that never loses a concurrent update", () => {
  it.live("three caches over one store, 20 concurrent updates each: every update is kept", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const hub = MemoryBus.hub()
      const caches = yield* Effect.all(["a", "b", "c"].map((n) => Cache.make({}, store, hub.node(n))))
      yield* Effect.all(
        caches.flatMap((cache, c) =>
          Array.from({ length: 20 }, (_, i) => cache.update(Carts, "u1", add(`${c}-${i}`))),
        ),
        { concurrency: "unbounded" },
      )
      const fresh = yield* Cache.make({}, store)
      const cart = Option.getOrThrow(yield* fresh.get(Carts, "u1"))
      assert.strictEqual(cart.count, 60)
      assert.strictEqual(new Set(cart.items).size, 60)
      for (const cache of caches) assert.deepStrictEqual(yield* cache.get(Carts, "u1"), Option.some(cart))
    }),
  )

  it.effect("with L1 only it is one step of this process, and returning current itself writes nothing", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make()
      yield* Effect.all(
        Array.from({ length: 50 }, (_, i) => cache.update(Carts, "u", add(String(i)))),
        { concurrency: "unbounded" },
      )
      const cart = Option.getOrThrow(yield* cache.get(Carts, "u"))
      assert.strictEqual(cart.count, 50)
      const same = yield* cache.update(Carts, "u", (current) => current!)
      assert.strictEqual(same, cart)
    }),
  )

  it.effect("an unchanged value writes nothing to the shared tier (its version stays)", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const cache = yield* Cache.make({}, store)
      yield* cache.set(Carts, "u", { items: [], count: 0 })
      const before = (yield* store.versioned!.get(Carts.id, Carts.storeKey("u"))).version
      yield* cache.update(Carts, "u", (current) => current!)
      assert.strictEqual((yield* store.versioned!.get(Carts.id, Carts.storeKey("u"))).version, before)
    }),
  )

  it.effect("a function that throws fails with LoaderFailed; nothing is written", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.make({}, yield* MemoryStore.make())
      const error = yield* Effect.flip(
        cache.update(Carts, "u", () => {
          throw new Error("bug")
        }),
      )
      assert.instanceOf(error, LoaderFailed)
      assert.deepStrictEqual(yield* cache.get(Carts, "u"), Option.none())
    }),
  )

  it.live(
    "a key whose every compare-and-set loses fails with UpdateConflict after UPDATE_ATTEMPTS tries",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        let fills = 0
        const contended: Store.Service = {
          ...store,
          versioned: {
            ...store.versioned!,
            fill: () =>
              Effect.sync(() => {
                fills++
                return false
              }),
          },
        }
        const cache = yield* Cache.make({}, contended)
        const error = yield* Effect.flip(cache.update(Carts, "u", add("x")))
        assert.instanceOf(error, UpdateConflict)
        assert.strictEqual(fills, 16)
      }),
  )
})

describe("update against a tag invalidation", () => {
  it.effect(
    "an update that read before its key's tag was invalidated writes nothing that outlives the invalidation",
    () =>
      Effect.gen(function* () {
        const Carts = Keyspace.make({
          name: "engine.cart",
          key: Schema.String,
          value: Schema.String,
          ttl: "1 minute",
          tags: (user) => [`user:${user}`],
        })
        const store = yield* MemoryStore.make()
        // Reads answer 100 ms late with what they read when asked, as a slow link would.
        const slow: Store.Service = {
          ...store,
          versioned: {
            ...store.versioned!,
            get: (space, key) =>
              Effect.flatMap(store.versioned!.get(space, key), (found) =>
                Effect.as(Effect.sleep(100), found),
              ),
          },
        }
        const cache = yield* Cache.make({}, slow)
        yield* cache.set(Carts, "7", "a")
        const updating = yield* Effect.forkChild(cache.update(Carts, "7", (cart) => `${cart ?? ""},b`))
        yield* settle
        yield* cache.invalidateTag("user:7") // lands while the update holds what it read
        yield* TestClock.adjust(100)
        yield* Fiber.join(updating)
        const fresh = yield* Cache.make({}, store)
        assert.deepStrictEqual(yield* fresh.get(Carts, "7"), Option.none(), "the invalidation wins")
      }),
  )
})
