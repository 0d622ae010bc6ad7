import { assert, describe, it } from "@effect/vitest"
import {
  Cache,
  type CacheEvent,
  Keyspace,
  MemoryBus,
  MemoryStore,
  type Store,
  StoreUnavailable,
  Timeout,
} from "@strata/core"
import { Deferred, Effect, Fiber, Option, Schema, Tracer } from "effect"
import { TestClock } from "effect/testing"

const Items = Keyspace.make({
  name: "engine.item",
  key: Schema.String,
  value: Schema.String,
  ttl: "1 minute",
  staleFor: "10 minutes",
})

const events = (cache: Cache.Service) => {
  const seen: Array<CacheEvent> = []
  cache.onEvent((e) => seen.push(e))
  return seen
}

/** A memory store whose calls fail while `down` is set. */
const flaky = (store: Store.Service) => {
  const state = { down: false, calls: 0 }
  const wrap =
    <Args extends Array<any>, A, E>(f: (...args: Args) => Effect.Effect<A, E>) =>
    (...args: Args) =>
      Effect.suspend((): Effect.Effect<A, E | StoreUnavailable> => {
        state.calls++
        return state.down
          ? Effect.fail(
              new StoreUnavailable({
                store: "flaky",
                operation: "x",
                reason: "unreachable",
                message: "down",
              }),
            )
          : f(...args)
      })
  const wrapped: Store.Service = {
    ...store,
    get: wrap(store.get),
    getMany: wrap(store.getMany),
    set: wrap(store.set),
    setMany: wrap(store.setMany),
    delete: wrap(store.delete),
    increment: wrap(store.increment),
    clear: wrap(store.clear),
    versioned: { get: wrap(store.versioned!.get), fill: wrap(store.versioned!.fill) },
    leases: { acquire: wrap(store.leases!.acquire), release: wrap(store.leases!.release) },
  }
  return { store: wrapped, state }
}

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

/** Cache options for two caches sharing a lease: short TTL and poll, so tests step the clock a little. */
const leased = { lease: { ttl: "1 second", pollInterval: "50 millis" } } as const

/** A loader that counts its calls and takes 100 ms. */
const countingLoader = () => {
  const calls = { loads: 0 }
  const load = (value: string) =>
    Effect.sync(() => {
      calls.loads++
    }).pipe(Effect.andThen(Effect.sleep(100)), Effect.as(value))
  return { calls, load }
}

/** Lets forked fibers run up to their next wait. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 5; i++) yield* Effect.yieldNow
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
})

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

  it.effect("without a bus, L1 in front of a shared store keeps copies fresh for 5 s at most", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const shared: Store.Service = { ...store, capabilities: { ...store.capabilities, local: false } }
      const cache = yield* Cache.make({}, shared)
      yield* cache.set(Items, "k", "v")
      yield* TestClock.adjust(4_999)
      assert.strictEqual(cache.peekUnsafe(Items, "k"), "v")
      yield* TestClock.adjust(1)
      assert.strictEqual(cache.peekUnsafe(Items, "k"), undefined)
      assert.deepStrictEqual(yield* cache.get(Items, "k"), Option.some("v"))
    }),
  )

  it.effect("never publishes an invalidation for a write whose L2 step failed", () =>
    Effect.gen(function* () {
      const { store, state } = flaky(yield* MemoryStore.make())
      const hub = MemoryBus.hub()
      const cache = yield* Cache.make({ circuitBreaker: false }, store, hub.node("a"))
      state.down = true
      yield* Effect.exit(cache.set(Items, "k", "v"))
      yield* Effect.exit(cache.delete(Items, "k"))
      yield* Effect.exit(cache.invalidateTag("t"))
      yield* Effect.exit(cache.clear(Items))
      assert.deepStrictEqual(hub.published, [])
      state.down = false
      yield* cache.set(Items, "k", "v")
      assert.deepStrictEqual(
        hub.published.map((p) => p.message._tag),
        ["InvalidateKeys"],
      )
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
