import { assert, describe, it } from "@effect/vitest"
import {
  Cache,
  CacheClosed,
  type CacheEvent,
  Entry,
  EntryTooLarge,
  InvalidArgument,
  InvalidDuration,
  InvalidKey,
  InvalidValue,
  Keyspace,
  MemoryStore,
  SingleFlight,
  Store,
} from "@strata/core"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Option, Result, Schema, Scope } from "effect"
import { TestClock } from "effect/testing"

const Product = Schema.Struct({
  id: Schema.Int,
  name: Schema.String,
  price: Schema.Number,
  tags: Schema.Array(Schema.String),
})
type Product = typeof Product.Type
const Products = Keyspace.make({
  name: "shop.product",
  key: Schema.Struct({ id: Schema.Int }),
  value: Product,
  ttl: "1 minute",
  staleFor: "10 minutes",
  tags: ({ id }) => [`product:${id}`, "catalog"],
})
const Events = Keyspace.make({
  name: "shop.event",
  key: Schema.String,
  value: Schema.Struct({ at: Schema.Date }),
  ttl: 1000,
})
const Views = Keyspace.counter({ name: "shop.views", key: Schema.String, ttl: "1 minute" })

const product = (id: number): Product => ({ id, name: `Product ${id}`, price: 10 + id, tags: ["a"] })

/** A cache with L1 over a memory store; the store is exposed too so tests can write bytes behind the cache. */
const Tiered = Layer.effect(
  Cache.Cache,
  Effect.gen(function* () {
    return yield* Cache.make({}, yield* Store.Store)
  }),
).pipe(Layer.provideMerge(MemoryStore.layer()))

const configurations = [
  ["L1 only", Cache.layer()],
  ["L1 over a memory store", Cache.layer({ l2: MemoryStore.layer() })],
  ["memory store only", Cache.layer({ l1: false, l2: MemoryStore.layer() })],
] as const

for (const [name, layer] of configurations) {
  describe(`Cache (${name})`, () => {
    it.effect(
      "N concurrent getOrSet callers for one cold key make one loader call and all get its value",
      () =>
        Effect.gen(function* () {
          const cache = yield* Cache.Cache
          let calls = 0
          const gate = yield* Deferred.make<void>()
          const loader = Effect.gen(function* () {
            calls++
            yield* Deferred.await(gate)
            return product(1)
          })
          const fibers = yield* Effect.forEach(Array.from({ length: 100 }), () =>
            Effect.forkChild(cache.getOrSet(Products, { id: 1 }, loader)),
          )
          yield* Effect.yieldNow
          yield* Deferred.succeed(gate, undefined)
          const results = yield* Fiber.joinAll(fibers)
          assert.strictEqual(calls, 1)
          for (const r of results) assert.deepStrictEqual(r, product(1))
          assert.strictEqual(cache.stats().coalesced, 99)
          assert.strictEqual(cache.stats().loads, 1)
        }).pipe(Effect.provide(layer)),
    )

    it.effect("a failed load reaches every waiter and is not cached: the next call loads again", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        let calls = 0
        const failing = Effect.suspend(() => {
          calls++
          return Effect.fail("database down" as const)
        }).pipe(Effect.delay(10))
        const exits = yield* Effect.all(
          Array.from({ length: 5 }, () => Effect.exit(cache.getOrSet(Products, { id: 2 }, failing))),
          { concurrency: "unbounded" },
        ).pipe(Effect.forkChild)
        // Let the flight and its load fiber reach the loader's sleep before moving time.
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow
        yield* TestClock.adjust(10)
        for (const exit of yield* Fiber.join(exits)) {
          assert.isTrue(Exit.isFailure(exit))
          if (Exit.isFailure(exit)) assert.strictEqual(Cause.squash(exit.cause), "database down")
        }
        assert.strictEqual(calls, 1)
        const value = yield* cache.getOrSet(Products, { id: 2 }, Effect.succeed(product(2)))
        assert.deepStrictEqual(value, product(2))
        assert.strictEqual(cache.stats().loadFailures, 1)
      }).pipe(Effect.provide(layer)),
    )

    it.effect("interrupting one waiter, even the first, does not cancel the load for the others", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        let calls = 0
        const loader = Effect.sync(() => ++calls).pipe(Effect.delay(100), Effect.as(product(3)))
        const first = yield* Effect.forkChild(cache.getOrSet(Products, { id: 3 }, loader))
        yield* Effect.yieldNow
        const second = yield* Effect.forkChild(cache.getOrSet(Products, { id: 3 }, loader))
        yield* Effect.yieldNow
        yield* Fiber.interrupt(first)
        yield* TestClock.adjust(100)
        assert.deepStrictEqual(yield* Fiber.join(second), product(3))
        assert.strictEqual(calls, 1)
        assert.deepStrictEqual(yield* cache.get(Products, { id: 3 }), Option.some(product(3)))
      }).pipe(Effect.provide(layer)),
    )

    it.effect("a load finishes and fills the cache even when every caller was interrupted", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        const fiber = yield* Effect.forkChild(
          cache.getOrSet(Products, { id: 4 }, Effect.succeed(product(4)).pipe(Effect.delay(50))),
        )
        yield* Effect.yieldNow
        yield* Fiber.interrupt(fiber)
        yield* TestClock.adjust(50)
        assert.deepStrictEqual(yield* cache.get(Products, { id: 4 }), Option.some(product(4)))
      }).pipe(Effect.provide(layer)),
    )

    it.effect("entries are fresh strictly before their TTL and a miss from it on", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        yield* cache.set(Products, { id: 5 }, product(5))
        yield* TestClock.adjust(59_999)
        assert.isTrue(Option.isSome(yield* cache.get(Products, { id: 5 })))
        yield* TestClock.adjust(1)
        assert.isTrue(Option.isNone(yield* cache.get(Products, { id: 5 })))
        yield* cache.set(Products, { id: 6 }, product(6), { ttl: "5 seconds" })
        yield* TestClock.adjust(5_000)
        assert.isTrue(Option.isNone(yield* cache.get(Products, { id: 6 })))
      }).pipe(Effect.provide(layer)),
    )

    it.effect("a bad key fails with InvalidKey before any I/O", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        let calls = 0
        const loader = Effect.sync(() => {
          calls++
          return product(1)
        })
        const bad = { id: 1.5 }
        assert.instanceOf(yield* Effect.flip(cache.get(Products, bad)), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.getOrSet(Products, bad, loader)), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.set(Products, bad, product(1))), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.delete(Products, bad)), InvalidKey)
        assert.instanceOf(yield* Effect.flip(cache.getMany(Products, [{ id: 1 }, bad])), InvalidKey)
        assert.strictEqual(calls, 0)
        assert.throws(() => cache.peekUnsafe(Products, bad), InvalidKey)
      }).pipe(Effect.provide(layer)),
    )

    it.effect(
      "a bad value fails with InvalidValue and nothing is written, not even the rest of a batch",
      () =>
        Effect.gen(function* () {
          const cache = yield* Cache.Cache
          yield* cache.set(Products, { id: 7 }, product(7))
          const wrong = { ...product(7), price: "free" } as unknown as Product
          assert.instanceOf(yield* Effect.flip(cache.set(Products, { id: 7 }, wrong)), InvalidValue)
          assert.deepStrictEqual(yield* cache.get(Products, { id: 7 }), Option.some(product(7)))
          const error = yield* Effect.flip(
            cache.setMany(Products, [
              [{ id: 8 }, product(8)],
              [{ id: 9 }, wrong],
            ]),
          )
          assert.instanceOf(error, InvalidValue)
          assert.deepStrictEqual(yield* cache.get(Products, { id: 8 }), Option.none())
          const fromLoader = yield* Effect.flip(cache.getOrSet(Products, { id: 10 }, Effect.succeed(wrong)))
          assert.instanceOf(fromLoader, InvalidValue)
          assert.deepStrictEqual(yield* cache.get(Products, { id: 10 }), Option.none())
        }).pipe(Effect.provide(layer)),
    )

    it.effect("an oversized value fails with EntryTooLarge and nothing is written", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        const huge = { ...product(11), name: "x".repeat(1024 * 1024) }
        const error = yield* Effect.flip(cache.set(Products, { id: 11 }, huge))
        assert.instanceOf(error, EntryTooLarge)
        assert.isAbove((error as EntryTooLarge).bytes, 1024 * 1024)
        assert.strictEqual((error as EntryTooLarge).limit, 1024 * 1024)
        assert.deepStrictEqual(yield* cache.get(Products, { id: 11 }), Option.none())
        assert.instanceOf(
          yield* Effect.flip(cache.getOrSet(Products, { id: 11 }, Effect.succeed(huge))),
          EntryTooLarge,
        )
      }).pipe(Effect.provide(layer)),
    )

    it.effect("a bad per-call TTL fails with InvalidDuration", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        for (const ttl of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
          assert.instanceOf(
            yield* Effect.flip(cache.set(Products, { id: 1 }, product(1), { ttl })),
            InvalidDuration,
          )
        }
      }).pipe(Effect.provide(layer)),
    )

    it.effect(
      "mutating a returned value changes nothing: values are frozen, or copied when freezing cannot protect them",
      () =>
        Effect.gen(function* () {
          const cache = yield* Cache.Cache
          const mine = product(12)
          yield* cache.set(Products, { id: 12 }, mine)
          ;(mine.tags as Array<string>).length = 0
          const got = Option.getOrThrow(yield* cache.get(Products, { id: 12 }))
          assert.throws(() => {
            ;(got.tags as Array<string>).push("x")
          }, TypeError)
          assert.deepStrictEqual(yield* cache.get(Products, { id: 12 }), Option.some(product(12)))
          yield* cache.set(Events, "e", { at: new Date(1000) })
          const event = Option.getOrThrow(yield* cache.get(Events, "e"))
          event.at.setTime(0)
          assert.deepStrictEqual(yield* cache.get(Events, "e"), Option.some({ at: new Date(1000) }))
        }).pipe(Effect.provide(layer)),
    )

    it.effect("invalidateTag makes every entry carrying the tag a miss, and only those", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        yield* cache.setMany(Products, [
          [{ id: 13 }, product(13)],
          [{ id: 14 }, product(14)],
        ])
        yield* cache.invalidateTag("product:13")
        assert.deepStrictEqual(yield* cache.getMany(Products, [{ id: 13 }, { id: 14 }]), [
          Option.none(),
          Option.some(product(14)),
        ])
        yield* cache.set(Products, { id: 13 }, product(13))
        assert.deepStrictEqual(yield* cache.get(Products, { id: 13 }), Option.some(product(13)))
        yield* cache.invalidateTag("catalog")
        assert.deepStrictEqual(yield* cache.getMany(Products, [{ id: 13 }, { id: 14 }]), [
          Option.none(),
          Option.none(),
        ])
      }).pipe(Effect.provide(layer)),
    )

    it.effect("clear removes every entry of one keyspace and leaves others", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        yield* cache.set(Products, { id: 15 }, product(15))
        yield* cache.set(Events, "kept", { at: new Date(1) })
        yield* cache.clear(Products)
        assert.deepStrictEqual(yield* cache.get(Products, { id: 15 }), Option.none())
        assert.isTrue(Option.isSome(yield* cache.get(Events, "kept")))
      }).pipe(Effect.provide(layer)),
    )

    it.effect("increment counts atomically, from 0, with the counter keyspace's TTL", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        const counts = yield* Effect.all(
          Array.from({ length: 50 }, () => cache.increment(Views, "/home")),
          { concurrency: "unbounded" },
        )
        assert.strictEqual(Math.max(...counts), 50)
        assert.strictEqual(yield* cache.increment(Views, "/home", 10), 60)
        assert.deepStrictEqual(yield* cache.get(Views, "/home"), Option.some(60))
        yield* TestClock.adjust("1 minute")
        assert.deepStrictEqual(yield* cache.get(Views, "/home"), Option.none())
        assert.strictEqual(yield* cache.increment(Views, "/home", 2), 2)
      }).pipe(Effect.provide(layer)),
    )

    it.effect("a loader failure serves the stale value inside its grace window, and fails after it", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        const events: Array<CacheEvent> = []
        cache.onEvent((e) => events.push(e))
        yield* cache.set(Products, { id: 16 }, product(16))
        yield* TestClock.adjust("2 minutes")
        const down = Effect.fail("down" as const)
        const stale = yield* Effect.result(cache.getOrSet(Products, { id: 16 }, down))
        // The stale value comes from L1, or from L2 when there is no L1.
        assert.deepStrictEqual(stale, Result.succeed(product(16)))
        assert.strictEqual(events[0]?._tag, "StaleServed")
        assert.strictEqual(cache.stats().staleServed, 1)
        yield* TestClock.adjust("10 minutes")
        assert.deepStrictEqual(
          yield* Effect.result(cache.getOrSet(Products, { id: 16 }, down)),
          Result.fail("down" as const),
        )
      }).pipe(Effect.provide(layer)),
    )

    it.effect("the loader receives the key, and a loader can be a plain effect", () =>
      Effect.gen(function* () {
        const cache = yield* Cache.Cache
        assert.deepStrictEqual(
          yield* cache.getOrSet(Products, { id: 17 }, ({ id }) => Effect.succeed(product(id))),
          product(17),
        )
        assert.deepStrictEqual(
          yield* cache.getOrSet(Products, { id: 18 }, Effect.succeed(product(18))),
          product(18),
        )
      }).pipe(Effect.provide(layer)),
    )
  })
}

describe("Cache over a shared store", () => {
  it.effect("corrupt bytes in the store are a miss, dropped from the store, and reported", () =>
    Effect.gen(function* () {
      const cache = yield* Cache.Cache
      const store = yield* Store.Store
      const events: Array<CacheEvent> = []
      cache.onEvent((e) => events.push(e))
      const key = Products.storeKey({ id: 20 })
      yield* store.set(Products.id, key, new Uint8Array([0xc1, 0xff, 0x00]), 60_000)
      assert.deepStrictEqual(yield* cache.get(Products, { id: 20 }), Option.none())
      assert.strictEqual(yield* store.get(Products.id, key), undefined)
      assert.strictEqual(events[0]?._tag, "EntryDropped")
      assert.strictEqual(cache.stats().entriesDropped, 1)
      // A schema mismatch (an old deploy's shape) is dropped the same way, through getOrSet too.
      const old = Result.getOrThrow(
        Entry.encode(
          Keyspace.make({ name: "shop.product", key: Schema.Unknown, value: Schema.String, ttl: 1000 }),
          "old",
          0,
          1e15,
          1e15,
          undefined,
        ),
      ).bytes
      yield* store.set(Products.id, key, old, 60_000)
      assert.deepStrictEqual(
        yield* cache.getOrSet(Products, { id: 20 }, Effect.succeed(product(20))),
        product(20),
      )
      assert.strictEqual(events.filter((e) => e._tag === "EntryDropped").length, 2)
    }).pipe(Effect.provide(Tiered)),
  )

  it.effect("an L2 hit fills L1 with the remaining TTL", () =>
    Effect.gen(function* () {
      const writer = yield* Cache.Cache
      const store = yield* Store.Store
      yield* writer.set(Products, { id: 21 }, product(21))
      yield* TestClock.adjust("30 seconds")
      // A second cache on the same store: its first read comes from L2.
      const reader = yield* Cache.make({}, store)
      assert.deepStrictEqual(yield* reader.get(Products, { id: 21 }), Option.some(product(21)))
      assert.strictEqual(reader.stats().hitsL2, 1)
      assert.deepStrictEqual(reader.peekUnsafe(Products, { id: 21 }), product(21))
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(reader.peekUnsafe(Products, { id: 21 }), undefined)
    }).pipe(Effect.provide(Tiered)),
  )

  it.effect(
    "tag versions live in the store: a tag invalidated by one cache is seen by another on its next L2 read",
    () =>
      Effect.gen(function* () {
        const a = yield* Cache.Cache
        const store = yield* Store.Store
        const b = yield* Cache.make({ l1: false }, store)
        yield* a.set(Products, { id: 22 }, product(22))
        assert.isTrue(Option.isSome(yield* b.get(Products, { id: 22 })))
        yield* b.invalidateTag("product:22")
        assert.deepStrictEqual(yield* b.get(Products, { id: 22 }), Option.none())
      }).pipe(Effect.provide(Tiered)),
  )
})

describe("SingleFlight", () => {
  it.effect(
    "a flight whose scope is already closed fails its callers with the interruption instead of hanging",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        yield* Scope.close(scope, Exit.void)
        const flights = SingleFlight.make(scope)
        const exit = yield* Effect.exit(flights.run("k", Effect.succeed(1)))
        assert.isTrue(Exit.isFailure(exit))
        assert.strictEqual(flights.size(), 0)
      }),
  )

  it.effect("no flight is left in progress after success, failure or interruption", () =>
    Effect.gen(function* () {
      const flights = SingleFlight.make(yield* Effect.scope)
      yield* flights.run("ok", Effect.succeed(1))
      yield* Effect.exit(flights.run("fail", Effect.fail("e")))
      const fiber = yield* Effect.forkChild(flights.run("slow", Effect.sleep(10)))
      yield* Effect.yieldNow
      assert.strictEqual(flights.size(), 1)
      yield* Fiber.interrupt(fiber)
      // The work goes on without its caller, then its flight ends.
      assert.strictEqual(flights.size(), 1)
      yield* TestClock.adjust(10)
      assert.strictEqual(flights.size(), 0)
    }),
  )
})

describe("a closed cache (Effect API)", () => {
  it.effect("every call after its scope closed fails with CacheClosed, on every tier setup", () =>
    Effect.gen(function* () {
      for (const withStore of [false, true]) {
        const scope = yield* Scope.make()
        const store = yield* MemoryStore.make()
        const cache = yield* Scope.provide(Cache.make({}, withStore ? store : undefined), scope)
        yield* cache.set(Views, "v", 1)
        yield* Scope.close(scope, Exit.void)
        const calls: Record<string, Effect.Effect<unknown, unknown>> = {
          get: cache.get(Views, "v"),
          getMany: cache.getMany(Views, ["v"]),
          getOrSet: cache.getOrSet(Views, "v", Effect.succeed(2)),
          getOrSetMany: cache.getOrSetMany(Views, ["v"], () => Effect.succeed([2])),
          set: cache.set(Views, "v", 2),
          setMany: cache.setMany(Views, [["v", 2]]),
          update: cache.update(Views, "v", (n) => (n ?? 0) + 1),
          delete: cache.delete(Views, "v"),
          increment: cache.increment(Views, "v", 1),
          invalidateTag: cache.invalidateTag("t"),
          clear: cache.clear(Views),
        }
        for (const [name, call] of Object.entries(calls)) {
          const exit = yield* Effect.exit(call)
          assert.isTrue(
            Exit.isFailure(exit) && Cause.squash(exit.cause) instanceof CacheClosed,
            `${name} (store: ${withStore}): ${String(exit)}`,
          )
        }
        assert.throws(() => cache.peekUnsafe(Views, "v"), CacheClosed)
      }
    }),
  )
})

describe("tags are valid Unicode text", () => {
  it.effect(
    "a tag with a lone surrogate is InvalidArgument for invalidateTag and InvalidKey from a tags function; nothing is written",
    () =>
      Effect.gen(function* () {
        const cache = yield* Cache.make()
        const bad = yield* Effect.exit(cache.invalidateTag("a\uD800"))
        assert.isTrue(Exit.isFailure(bad) && Cause.squash(bad.cause) instanceof InvalidArgument)
        const Tagged = Keyspace.make({
          name: "cache.lone",
          key: Schema.String,
          value: Schema.String,
          ttl: "1 minute",
          tags: (key) => [`t:${key}`],
        })
        const write = yield* Effect.exit(cache.set(Tagged, "\uDC00x", "v"))
        assert.isTrue(Exit.isFailure(write) && Cause.squash(write.cause) instanceof InvalidKey)
        assert.strictEqual(cache.stats().l1Entries, 0)
      }),
  )
})
