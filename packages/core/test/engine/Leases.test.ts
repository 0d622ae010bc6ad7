import { assert, describe, it } from "@effect/vitest"
import { Cache, MemoryBus, MemoryStore, type Store } from "@strata/core"
import { Deferred, Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import { countingLoader, Items, leased, settle } from "./fixtures.ts"

/** Steps the clock to `until` (ms) in `step` ms increments, letting fibers run between steps. */
const stepTo = (now: { t: number }, until: number, step = 25) =>
  Effect.gen(function* () {
    while (now.t < until) {
      yield* settle
      yield* TestClock.adjust(step)
      now.t += step
    }
    yield* settle
  })

describe("leases: one loader call per key across caches while leases hold", () => {
  it.effect(
    "three waiters outlive two dead holders (one took the lease over from the first): exactly one of them loads, and all get its value",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        const now = { t: 0 }
        const key = Items.storeKey("k")
        // The first holder takes the lease and dies: it never fills, never releases.
        assert.strictEqual((yield* store.leases!.acquire(Items.id, key, 1_000))._tag, "Acquired")
        // The second holder is a cache that takes the lease over when it lapses, then dies while loading:
        // its process is gone, so it releases nothing (its store's release does nothing) and announces nothing.
        const doomedStore: Store.Service = {
          ...store,
          leases: { ...store.leases!, release: () => Effect.succeed(false) },
        }
        const doomedScope = yield* Scope.make()
        const doomed = yield* Cache.make(leased, doomedStore, hub.node("doomed")).pipe(
          Scope.provide(doomedScope),
        )
        const doomedLoads = { count: 0 }
        yield* Effect.forkChild(
          doomed.getOrSet(
            Items,
            "k",
            Effect.sync(() => doomedLoads.count++).pipe(Effect.andThen(Effect.never)),
          ),
        )
        yield* stepTo(now, 25)
        const caches = yield* Effect.all(["a", "b", "c"].map((n) => Cache.make(leased, store, hub.node(n))))
        const { calls, load } = countingLoader()
        const waiters = yield* Effect.all(
          caches.map((cache, i) => Effect.forkChild(cache.getOrSet(Items, "k", load(`from ${i}`)))),
        )
        // The doomed cache polls first when the first lease lapses (t = 1000) and takes it.
        yield* stepTo(now, 1_100)
        assert.strictEqual(doomedLoads.count, 1, "the second holder took the lease over and started loading")
        assert.strictEqual(calls.loads, 0, "no waiter loads while the lease is held")
        yield* Scope.close(doomedScope, Exit.void)
        // Its lease lapses at t = 2000; one waiter takes it and loads.
        yield* stepTo(now, 3_000)
        const values = yield* Effect.all(waiters.map(Fiber.join))
        assert.strictEqual(calls.loads, 1, "one loader call among the survivors")
        assert.strictEqual(new Set(values).size, 1, `every waiter got the same value: ${values.join(", ")}`)
        for (const cache of caches) {
          assert.strictEqual(cache.stats().flightsInProgress, 0)
          assert.strictEqual(cache.stats().leaseWaiters, 0)
          assert.strictEqual(cache.stats().fillsInFlight, 0)
        }
      }),
  )
})

describe("leases across caches sharing a store", () => {
  it.effect(
    "one cache loads while the other waits for its fill; a holder that dies frees the lease after its TTL",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        const a = yield* Cache.make(leased, store, hub.node("a"))
        const b = yield* Cache.make(leased, store, hub.node("b"))
        const { calls, load } = countingLoader()
        const first = yield* Effect.forkChild(a.getOrSet(Items, "k", load("from a")))
        yield* settle
        const second = yield* Effect.forkChild(b.getOrSet(Items, "k", load("from b")))
        yield* settle
        yield* TestClock.adjust(100)
        assert.strictEqual(yield* Fiber.join(first), "from a")
        assert.strictEqual(yield* Fiber.join(second), "from a")
        assert.strictEqual(calls.loads, 1)
        assert.isAbove(b.stats().leaseWaits, 0)

        // A lease holder that never fills: the waiter loads itself once the lease lapses.
        const taken = yield* store.leases!.acquire(Items.id, Items.storeKey("dead"), 1_000)
        assert.strictEqual(taken._tag, "Acquired")
        const waiter = yield* Effect.forkChild(b.getOrSet(Items, "dead", load("after the lease")))
        for (let step = 0; step < 30; step++) {
          for (let i = 0; i < 3; i++) yield* Effect.yieldNow
          yield* TestClock.adjust(50)
        }
        assert.strictEqual(yield* Fiber.join(waiter), "after the lease")
        assert.strictEqual(b.stats().leaseWaiters, 0)
      }),
  )
})

describe("conditional leases", () => {
  it.effect(
    "a cache whose miss was read before another cache's fill reads that fill instead of loading a second time",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        // b's lease request is held back until a has loaded, filled and released its lease.
        const gate = yield* Deferred.make<void>()
        const gated: Store.Service = {
          ...store,
          leases: {
            ...store.leases!,
            acquire: (...args) => Deferred.await(gate).pipe(Effect.andThen(store.leases!.acquire(...args))),
          },
        }
        const a = yield* Cache.make(leased, store, hub.node("a"))
        const b = yield* Cache.make(leased, gated, hub.node("b"))
        const { calls, load } = countingLoader()
        const first = yield* Effect.forkChild(a.getOrSet(Items, "k", load("from a")))
        yield* settle
        const late = yield* Effect.forkChild(b.getOrSet(Items, "k", load("from b")))
        yield* settle
        yield* TestClock.adjust(100)
        assert.strictEqual(yield* Fiber.join(first), "from a")
        yield* settle
        // a's lease is free again: only the version check keeps b from loading.
        const probe = yield* store.leases!.acquire(Items.id, Items.storeKey("k"), 1)
        assert.strictEqual(probe._tag, "Acquired")
        if (probe._tag === "Acquired")
          yield* store.leases!.release(Items.id, Items.storeKey("k"), probe.token)
        yield* Deferred.succeed(gate, undefined)
        assert.strictEqual(yield* Fiber.join(late), "from a")
        assert.strictEqual(calls.loads, 1)
      }),
  )

  it.effect(
    "a cache closed while it holds a lease releases it: another process need not wait out the lease's TTL",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        const scope = yield* Scope.make()
        const holder = yield* Scope.provide(Cache.make(leased, store, hub.node("holder")), scope)
        yield* Effect.forkChild(holder.getOrSet(Items, "k", Effect.never))
        yield* settle
        const key = Items.storeKey("k")
        assert.strictEqual(
          (yield* store.leases!.acquire(Items.id, key, 1_000))._tag,
          "Held",
          "the holder loads",
        )
        yield* Scope.close(scope, Exit.void)
        assert.strictEqual((yield* store.leases!.acquire(Items.id, key, 1_000))._tag, "Acquired")
      }),
  )

  it.effect(
    "a loader slower than the lease's TTL keeps its lease (renewed while it runs): the waiting cache does not load too",
    () =>
      Effect.gen(function* () {
        const store = yield* MemoryStore.make()
        const hub = MemoryBus.hub()
        const holder = yield* Cache.make(leased, store, hub.node("holder"))
        const waiter = yield* Cache.make(leased, store, hub.node("waiter"))
        const slow = countingLoader(3_000) // lease.ttl is 1 s
        const other = countingLoader(10)
        const first = yield* Effect.forkChild(holder.getOrSet(Items, "k", slow.load("from the holder")))
        yield* settle
        const second = yield* Effect.forkChild(waiter.getOrSet(Items, "k", other.load("from the waiter")))
        for (let t = 0; t < 3_200; t += 50) {
          yield* TestClock.adjust(50)
          yield* settle
        }
        assert.strictEqual(yield* Fiber.join(first), "from the holder")
        assert.strictEqual(yield* Fiber.join(second), "from the holder")
        assert.strictEqual(other.calls.loads, 0, "the waiter never loaded")
        assert.strictEqual(slow.calls.loads, 1)
      }),
  )
})
