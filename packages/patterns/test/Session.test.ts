import { assert, describe, it } from "@effect/vitest"
import { Cache, InvalidKeyspace, MemoryStore } from "@strata/core"
import { Session } from "@strata/patterns"
import { Effect, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import { addOne, Cart } from "./fixtures.ts"

const Carts = Session.make({
  name: "test.session.cart",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Cart,
  idleTimeout: "1 second",
  user: ({ userId }) => userId,
})

const Prefs = Session.make({
  name: "test.session.prefs",
  key: Schema.Int,
  value: Schema.Struct({ theme: Schema.String }),
  idleTimeout: "1 hour",
  user: (userId) => userId,
})

/** A cache over a shared memory tier (versioned, so `update` is a compare-and-set). */
const withCache = <A, E>(effect: Effect.Effect<A, E, Cache.Cache>) =>
  Effect.gen(function* () {
    const cache = yield* Cache.make({}, yield* MemoryStore.make())
    return yield* Effect.provideService(effect, Cache.Cache, cache)
  })

describe("Session: per-user data with sliding expiry, atomic changes, dropped by user", () => {
  it.effect("each access extends the expiry by the idle timeout; idle data expires", () =>
    withCache(
      Effect.gen(function* () {
        const alice = { userId: 1 }
        yield* Session.update(Carts, alice, addOne("apple"))
        // Accessed every 800 ms, it outlives its first 1 s expiry several times over.
        for (let i = 0; i < 3; i++) {
          yield* TestClock.adjust(800)
          assert.deepStrictEqual(yield* Session.get(Carts, alice), Option.some({ items: { apple: 1 } }))
        }
        yield* TestClock.adjust(1_001)
        assert.deepStrictEqual(yield* Session.get(Carts, alice), Option.none())
      }),
    ),
  )

  it.effect("a get of missing data is None and creates nothing", () =>
    withCache(
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* Session.get(Carts, { userId: 9 }), Option.none())
        const cache = yield* Cache.Cache
        assert.deepStrictEqual(yield* cache.get(Carts.keyspace, { userId: 9 }), Option.none())
      }),
    ),
  )

  it.effect("dropUser drops every kind of session data of that user, and only that user's", () =>
    withCache(
      Effect.gen(function* () {
        yield* Session.update(Carts, { userId: 1 }, addOne("apple"))
        yield* Session.update(Prefs, 1, () => ({ theme: "dark" }))
        yield* Session.update(Carts, { userId: 2 }, addOne("pear"))
        yield* Session.dropUser(1)
        assert.deepStrictEqual(yield* Session.get(Carts, { userId: 1 }), Option.none())
        assert.deepStrictEqual(yield* Session.get(Prefs, 1), Option.none())
        assert.deepStrictEqual(yield* Session.get(Carts, { userId: 2 }), Option.some({ items: { pear: 1 } }))
        // A dropped session starts afresh.
        assert.deepStrictEqual(yield* Session.update(Carts, { userId: 1 }, addOne("fig")), {
          items: { fig: 1 },
        })
      }),
    ),
  )

  it.effect("remove deletes one entry; a throwing change is LoaderFailed; bad data is InvalidValue", () =>
    withCache(
      Effect.gen(function* () {
        yield* Session.update(Carts, { userId: 3 }, addOne("kiwi"))
        const thrown = yield* Effect.flip(
          Session.update(Carts, { userId: 3 }, () => {
            throw new Error("out of stock")
          }),
        )
        assert.strictEqual(thrown._tag, "LoaderFailed")
        const bad = yield* Effect.flip(Session.update(Carts, { userId: 3 }, () => ({ items: { kiwi: 0.5 } })))
        assert.strictEqual(bad._tag, "InvalidValue")
        assert.deepStrictEqual(yield* Session.get(Carts, { userId: 3 }), Option.some({ items: { kiwi: 1 } }))
        yield* Session.remove(Carts, { userId: 3 })
        assert.deepStrictEqual(yield* Session.get(Carts, { userId: 3 }), Option.none())
      }),
    ),
  )

  it("a bad idle timeout or name throws InvalidKeyspace when declared", () => {
    for (const idleTimeout of [-1, Number.NaN, 0]) {
      assert.throws(
        () => Session.make({ name: "test.bad", key: Schema.Int, value: Cart, idleTimeout, user: String }),
        InvalidKeyspace,
      )
    }
    assert.throws(
      () => Session.make({ name: "Bad Name", key: Schema.Int, value: Cart, idleTimeout: 10, user: String }),
      InvalidKeyspace,
    )
  })
})
