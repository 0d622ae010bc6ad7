/**
 * The conformance suite every `Store` driver must pass: the memory tier,
 * Redis, or your own. Each driver's test file calls {@link storeConformance}
 * once and may add its own tests next to it.
 *
 * @since 0.1.0
 */
import { Entry, Store } from "@strata/core"
import { Effect, Layer, ManagedRuntime, type Scope } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import * as Arbitraries from "./Arbitraries.ts"

/** How to build the store under test. */
export interface StoreUnderTest<E> {
  /** Builds a store; runs once per test, in a scope closed after the test. */
  readonly make: Effect.Effect<Store.Service, E, Scope.Scope>
  /**
   * `"test"`: the store reads Effect's `Clock`, and the suite moves time with
   * `TestClock` (in-process stores). `"live"`: the store keeps real time (a
   * server), and the suite waits for real.
   */
  readonly clock: "test" | "live"
  /** Runs of each property; default 1,000. */
  readonly numRuns?: number | undefined
  /** The tombstone lifetime the store was built with; default 10 s (the drivers' default). */
  readonly tombstoneMillis?: number | undefined
}

interface Harness {
  readonly store: Store.Service
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  readonly advance: (millis: number) => Promise<void>
  readonly space: (label: string) => string
}

const encoder = new TextEncoder()
const text = (s: string) => encoder.encode(s)

/**
 * Registers the conformance suite for one store driver.
 *
 * @example
 * ```ts
 * // test/MemoryStore.test.ts
 * import { MemoryStore } from "@strata/core"
 * import { storeConformance } from "@strata/testkit"
 *
 * storeConformance("memory", { make: MemoryStore.make(), clock: "test" })
 * ```
 */
export const storeConformance = <E>(name: string, options: StoreUnderTest<E>): void => {
  const numRuns = options.numRuns ?? 1_000
  describe(`Store conformance: ${name}`, () => {
    let harness: Harness
    let runtime: ManagedRuntime.ManagedRuntime<Store.Store, unknown>
    let spaces = 0
    const runId = Math.random().toString(36).slice(2, 8)

    beforeEach(async () => {
      const clockLayer = (options.clock === "test" ? TestClock.layer() : Layer.empty) as Layer.Layer<never>
      runtime = ManagedRuntime.make(
        Layer.effect(Store.Store, options.make).pipe(Layer.provideMerge(clockLayer)),
      )
      const store = await runtime.runPromise(
        Effect.gen(function* () {
          return yield* Store.Store
        }),
      )
      harness = {
        store,
        run: (effect) => runtime.runPromise(effect),
        advance: (millis) =>
          options.clock === "test"
            ? runtime.runPromise(TestClock.adjust(millis))
            : new Promise<void>((resolve) => setTimeout(resolve, millis)),
        space: (label) => `conf.${runId}.${spaces++}.${label}`,
      }
    })

    afterEach(async () => {
      await runtime.dispose()
    })

    it("a key never written reads as absent", async () => {
      const { store, run, space } = harness
      expect(await run(store.get(space("absent"), "nope"))).toBeUndefined()
      expect(await run(store.getMany(space("absent"), ["a", "b"]))).toEqual([undefined, undefined])
    })

    it("prototype names are keys like any other: constructor, __proto__ and toString are absent until written", async () => {
      const { store, run, space } = harness
      const s = space("proto")
      const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]
      expect(await run(store.getMany(s, names))).toEqual(names.map(() => undefined))
      await run(store.set(s, "__proto__", text("p"), 60_000))
      expect(new TextDecoder().decode(await run(store.get(s, "__proto__")))).toBe("p")
      expect(await run(store.get(s, "constructor"))).toBeUndefined()
      expect(await run(store.increment(s, "constructor", 2, 60_000))).toBe(2)
    })

    it("bytes written under any key read back exactly (property)", async () => {
      const { store, run, space } = harness
      const s = space("roundtrip")
      await fc.assert(
        fc.asyncProperty(Arbitraries.wellFormedString, Arbitraries.bytes, async (key, value) => {
          await run(store.set(s, key, value, 60_000))
          const read = await run(store.get(s, key))
          expect(read).toBeInstanceOf(Uint8Array)
          expect(Array.from(read!)).toEqual(Array.from(value))
        }),
        { numRuns },
      )
    })

    it("distinct (space, key) pairs never share an entry (property)", async () => {
      const { store, run, space } = harness
      const prefix = space("distinct")
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(
            fc.tuple(fc.constantFrom("a", "a:", "a:b", "ab", ""), Arbitraries.wellFormedString),
            {
              minLength: 1,
              maxLength: 8,
              selector: ([s, k]) => `${s.length}|${s}|${k}`,
            },
          ),
          async (pairs) => {
            const run1 = Math.random().toString(36).slice(2)
            const writes = pairs.map(([s, k], i) => [`${prefix}.${run1}${s}`, k, text(String(i))] as const)
            for (const [s, k, v] of writes) await run(store.set(s, k, v, 60_000))
            for (const [s, k, v] of writes) {
              expect(new TextDecoder().decode(await run(store.get(s, k)))).toBe(new TextDecoder().decode(v))
            }
          },
        ),
        { numRuns },
      )
    })

    it("mutating bytes after set or after get never changes what the store holds", async () => {
      const { store, run, space } = harness
      const s = space("copies")
      const value = text("original")
      await run(store.set(s, "k", value, 60_000))
      value.fill(0)
      const first = (await run(store.get(s, "k")))!
      first.fill(0)
      expect(new TextDecoder().decode(await run(store.get(s, "k")))).toBe("original")
    })

    it("set replaces the value and the TTL", async () => {
      const { store, run, space, advance } = harness
      const s = space("replace")
      await run(store.set(s, "k", text("one"), 200))
      await run(store.set(s, "k", text("two"), 5_000))
      await advance(400)
      expect(new TextDecoder().decode(await run(store.get(s, "k")))).toBe("two")
    })

    it("an entry is present before its TTL and absent after it", async () => {
      const { store, run, space, advance } = harness
      const s = space("ttl")
      await run(store.set(s, "k", text("v"), 300))
      await advance(100)
      expect(await run(store.get(s, "k"))).toBeDefined()
      await advance(400)
      expect(await run(store.get(s, "k"))).toBeUndefined()
      expect(await run(store.getMany(s, ["k"]))).toEqual([undefined])
    })

    it("getMany returns values in the order asked, with gaps for missing keys", async () => {
      const { store, run, space } = harness
      const s = space("many")
      await run(store.set(s, "b", text("B"), 60_000))
      await run(store.set(s, "d", text("D"), 60_000))
      const found = await run(store.getMany(s, ["a", "b", "c", "d", "b"]))
      expect(found.map((b) => (b === undefined ? undefined : new TextDecoder().decode(b)))).toEqual([
        undefined,
        "B",
        undefined,
        "D",
        "B",
      ])
      expect(await run(store.getMany(s, []))).toEqual([])
    })

    it("setMany writes every entry with its own TTL", async () => {
      const { store, run, space, advance } = harness
      const s = space("setmany")
      await run(
        store.setMany(s, [
          { key: "short", value: text("1"), ttlMillis: 200 },
          { key: "long", value: text("2"), ttlMillis: 5_000 },
        ]),
      )
      await advance(400)
      expect(await run(store.get(s, "short"))).toBeUndefined()
      expect(new TextDecoder().decode(await run(store.get(s, "long")))).toBe("2")
      await run(store.setMany(s, []))
    })

    it("delete removes a key, and deleting an absent key succeeds", async () => {
      const { store, run, space } = harness
      const s = space("delete")
      await run(store.set(s, "k", text("v"), 60_000))
      await run(store.delete(s, "k"))
      expect(await run(store.get(s, "k"))).toBeUndefined()
      await run(store.delete(s, "never-written"))
    })

    it("increment starts an absent counter at 0, returns each new count and stores decimal text", async () => {
      const { store, run, space } = harness
      const s = space("incr")
      expect(await run(store.increment(s, "c", 1, 60_000))).toBe(1)
      expect(await run(store.increment(s, "c", 5, 60_000))).toBe(6)
      expect(await run(store.increment(s, "c", -10, 60_000))).toBe(-4)
      expect(Entry.parseCounter((await run(store.get(s, "c")))!)).toBe(-4)
    })

    it("increment sets the TTL when it creates a counter and keeps it afterwards", async () => {
      const { store, run, space, advance } = harness
      const s = space("incr-ttl")
      await run(store.increment(s, "c", 1, 400))
      await advance(250)
      await run(store.increment(s, "c", 1, 400))
      await advance(250)
      expect(await run(store.get(s, "c"))).toBeUndefined()
      expect(await run(store.increment(s, "c", 1, 400))).toBe(1)
    })

    it("concurrent increments are exact: none is lost", async () => {
      const { store, run, space } = harness
      const s = space("incr-race")
      await run(
        Effect.all(
          Array.from({ length: 200 }, () => store.increment(s, "c", 1, 60_000)),
          { concurrency: 50 },
        ),
      )
      expect(Entry.parseCounter((await run(store.get(s, "c")))!)).toBe(200)
    })

    it("increment replaces a value that is not a counter", async () => {
      const { store, run, space } = harness
      const s = space("incr-bad")
      await run(store.set(s, "c", text("not a number"), 60_000))
      expect(await run(store.increment(s, "c", 3, 60_000))).toBe(3)
    })

    it("clear removes every key of one space and no key of any other", async () => {
      const { store, run, space } = harness
      const s = space("clear")
      const neighbours = [`${s}x`, `${s}:x`, `x${s}`, `${s.slice(0, -1)}`]
      for (const n of [s, ...neighbours]) {
        await run(store.set(n, "k", text(n), 60_000))
        await run(store.set(n, `${s}:k`, text(n), 60_000))
      }
      await run(store.increment(s, "counter", 1, 60_000))
      await run(store.clear(s))
      expect(await run(store.getMany(s, ["k", `${s}:k`, "counter"]))).toEqual([
        undefined,
        undefined,
        undefined,
      ])
      for (const n of neighbours) {
        expect(new TextDecoder().decode(await run(store.get(n, "k")))).toBe(n)
        expect(new TextDecoder().decode(await run(store.get(n, `${s}:k`)))).toBe(n)
      }
      await run(store.set(s, "k", text("after"), 60_000))
      expect(new TextDecoder().decode(await run(store.get(s, "k")))).toBe("after")
    })

    it("empty and large (1 MiB) values round-trip", async () => {
      const { store, run, space } = harness
      const s = space("sizes")
      await run(store.set(s, "empty", new Uint8Array(0), 60_000))
      expect((await run(store.get(s, "empty")))?.length).toBe(0)
      const large = new Uint8Array(1024 * 1024).map((_, i) => i % 251)
      await run(store.set(s, "large", large, 60_000))
      const read = (await run(store.get(s, "large")))!
      expect(read.length).toBe(large.length)
      expect(Buffer.from(read).equals(Buffer.from(large))).toBe(true)
    })

    it("versioned: every write changes the version, and a delete leaves a tombstone that keeps one", async () => {
      const { store, run, space, advance } = harness
      const versioned = store.versioned
      if (versioned === undefined) return
      const s = space("versions")
      expect(await run(versioned.get(s, "k"))).toEqual({ value: undefined, version: 0 })
      await run(store.set(s, "k", text("one"), 60_000))
      const first = await run(versioned.get(s, "k"))
      expect(new TextDecoder().decode(first.value)).toBe("one")
      await run(store.set(s, "k", text("two"), 60_000))
      const second = await run(versioned.get(s, "k"))
      expect(second.version).not.toBe(first.version)
      expect(second.version).not.toBe(0)
      await run(store.delete(s, "k"))
      const deleted = await run(versioned.get(s, "k"))
      expect(deleted.value).toBeUndefined()
      expect([0, first.version, second.version]).not.toContain(deleted.version)
      expect(await run(store.get(s, "k"))).toBeUndefined()
      // The tombstone goes away with time; the key starts over.
      await advance((options.tombstoneMillis ?? 10_000) + 300)
      expect(await run(versioned.get(s, "k"))).toEqual({ value: undefined, version: 0 })
    })

    it("versioned: a fill lands only if nothing was written or deleted since its read", async () => {
      const { store, run, space } = harness
      const versioned = store.versioned
      if (versioned === undefined) return
      const s = space("fill")
      // A cold key: a fill based on version 0 lands; a second one based on 0 does not.
      expect(await run(versioned.fill(s, "a", text("loaded"), 60_000, 0))).toBe(true)
      expect(await run(versioned.fill(s, "a", text("late"), 60_000, 0))).toBe(false)
      expect(new TextDecoder().decode(await run(store.get(s, "a")))).toBe("loaded")
      // A fill that read before a write does not overwrite it.
      const before = (await run(versioned.get(s, "b"))).version
      await run(store.set(s, "b", text("newer"), 60_000))
      expect(await run(versioned.fill(s, "b", text("stale"), 60_000, before))).toBe(false)
      expect(new TextDecoder().decode(await run(store.get(s, "b")))).toBe("newer")
      // A fill that read before a delete does not resurrect the deleted value.
      await run(store.set(s, "c", text("old"), 60_000))
      const read = (await run(versioned.get(s, "c"))).version
      await run(store.delete(s, "c"))
      expect(await run(versioned.fill(s, "c", text("old"), 60_000, read))).toBe(false)
      expect(await run(store.get(s, "c"))).toBeUndefined()
      // Of concurrent fills from the same read, exactly one lands.
      const base = (await run(versioned.get(s, "d"))).version
      const outcomes = await run(
        Effect.all(
          Array.from({ length: 20 }, (_, i) => versioned.fill(s, "d", text(String(i)), 60_000, base)),
          { concurrency: "unbounded" },
        ),
      )
      expect(outcomes.filter(Boolean)).toHaveLength(1)
    })

    it("versioned: getMany answers what get answers for each key, in order, versions included", async () => {
      const { store, run, space } = harness
      const versioned = store.versioned
      if (versioned === undefined) return
      const s = space("vgetmany")
      await run(store.set(s, "a", text("one"), 60_000))
      await run(store.delete(s, "b"))
      await run(versioned.fill(s, "c", text("three"), 60_000, 0))
      const keys = ["c", "missing", "a", "b"]
      const many = await run(versioned.getMany(s, keys))
      const one = await Promise.all(keys.map((k) => run(versioned.get(s, k))))
      expect(
        many.map((r) => [r.value === undefined ? undefined : new TextDecoder().decode(r.value), r.version]),
      ).toEqual(
        one.map((r) => [r.value === undefined ? undefined : new TextDecoder().decode(r.value), r.version]),
      )
      expect(await run(versioned.getMany(s, []))).toEqual([])
    })

    it("versioned: getPromise, when offered, answers what get answers (value and version, after writes, deletes and fills)", async () => {
      const { store, run, space } = harness
      const getPromise = store.versioned?.getPromise
      if (getPromise === undefined) return
      const versioned = store.versioned!
      const s = space("vgetpromise")
      await run(store.set(s, "a", text("one"), 60_000))
      await run(store.delete(s, "b"))
      await run(versioned.fill(s, "c", text("three"), 60_000, 0))
      for (const key of ["a", "b", "c", "missing", "__proto__"]) {
        const viaEffect = await run(versioned.get(s, key))
        const viaPromise = await getPromise(s, key)
        expect(
          [viaPromise.value && new TextDecoder().decode(viaPromise.value), viaPromise.version],
          key,
        ).toEqual([viaEffect.value && new TextDecoder().decode(viaEffect.value), viaEffect.version])
      }
    })

    it("versioned: every version the store reports works as the base of a fill, after writes, deletes and fills alike (a chain of 30)", async () => {
      const { store, run, space } = harness
      const versioned = store.versioned
      if (versioned === undefined) return
      const s = space("fill-chain")
      for (let i = 0; i < 30; i++) {
        // Each round changes the key differently, then fills based on the version that left.
        if (i % 3 === 0) await run(store.delete(s, "k"))
        else if (i % 3 === 1) await run(store.set(s, "k", text(`set ${i}`), 60_000))
        const base = await run(versioned.get(s, "k"))
        expect(Number.isSafeInteger(base.version), `round ${i}: version ${base.version}`).toBe(true)
        expect(await run(versioned.fill(s, "k", text(`fill ${i}`), 60_000, base.version)), `round ${i}`).toBe(
          true,
        )
        // What the fill wrote reads back exactly, from a plain and a versioned read.
        expect(new TextDecoder().decode(await run(store.get(s, "k"))), `round ${i}`).toBe(`fill ${i}`)
        const after = await run(versioned.get(s, "k"))
        expect(new TextDecoder().decode(after.value), `round ${i}`).toBe(`fill ${i}`)
        expect(after.version, `round ${i}`).not.toBe(base.version)
      }
    })

    it("increment after a delete starts over at `by` and keeps counting from there", async () => {
      const { store, run, space } = harness
      const s = space("incr-delete")
      for (let round = 0; round < 10; round++) {
        await run(store.increment(s, "c", 5, 60_000))
        await run(store.delete(s, "c"))
        expect(await run(store.increment(s, "c", 1, 60_000)), `round ${round}`).toBe(1)
        expect(await run(store.increment(s, "c", 1, 60_000)), `round ${round}`).toBe(2)
        expect(await run(store.increment(s, "c", -3, 60_000)), `round ${round}`).toBe(-1)
        expect(Entry.parseCounter((await run(store.get(s, "c")))!), `round ${round}`).toBe(-1)
      }
    })

    it("counters are exact up to 2^53 - 1", async () => {
      const { store, run, space } = harness
      const s = space("incr-big")
      const big = Number.MAX_SAFE_INTEGER - 1
      expect(await run(store.increment(s, "c", big, 60_000))).toBe(big)
      expect(await run(store.increment(s, "c", 1, 60_000))).toBe(Number.MAX_SAFE_INTEGER)
      expect(Entry.parseCounter((await run(store.get(s, "c")))!)).toBe(Number.MAX_SAFE_INTEGER)
      expect(await run(store.increment(s, "d", -big, 60_000))).toBe(-big)
    })

    it("leases: one holder at a time, released only by its token, gone after its TTL", async () => {
      const { store, run, space, advance } = harness
      const leases = store.leases
      if (leases === undefined) return
      const s = space("leases")
      const tokenOf = (lease: Store.LeaseResult): string => {
        if (lease._tag !== "Acquired") throw new Error(`expected the lease to be acquired, got ${lease._tag}`)
        return lease.token
      }
      const token = tokenOf(await run(leases.acquire(s, "k", 1_000)))
      expect(await run(leases.acquire(s, "k", 1_000))).toEqual({ _tag: "Held" })
      expect(await run(leases.release(s, "k", "not-the-token"))).toBe(false)
      expect(await run(leases.release(s, "k", token))).toBe(true)
      expect(await run(leases.release(s, "k", token))).toBe(false)
      const next = tokenOf(await run(leases.acquire(s, "k", 300)))
      await advance(500)
      const after = tokenOf(await run(leases.acquire(s, "k", 1_000)))
      expect(after).not.toBe(next)
      expect(await run(leases.release(s, "k", next))).toBe(false)
      const concurrent = await run(
        Effect.all(
          Array.from({ length: 20 }, () => leases.acquire(s, "race", 1_000)),
          { concurrency: "unbounded" },
        ),
      )
      expect(concurrent.filter((lease) => lease._tag === "Acquired")).toHaveLength(1)
    })

    it("leases: renew extends only the holder's lease, also after a waiter found it held", async () => {
      const { store, run, space, advance } = harness
      const renew = store.leases?.renew
      if (store.leases === undefined || renew === undefined) return
      const s = space("renew")
      const lease = await run(store.leases.acquire(s, "k", 400))
      if (lease._tag !== "Acquired") throw new Error(`expected the lease to be acquired, got ${lease._tag}`)
      expect(await run(renew(s, "k", "not-the-token", 1_000))).toBe(false)
      // A waiter finds it held (stores may mark that on the lease).
      expect(await run(store.leases.acquire(s, "k", 1_000))).toEqual({ _tag: "Held" })
      await advance(300)
      expect(await run(renew(s, "k", lease.token, 1_000))).toBe(true)
      await advance(300)
      expect(await run(store.leases.acquire(s, "k", 1_000)), "still held past its first TTL").toEqual({
        _tag: "Held",
      })
      await advance(900)
      expect((await run(store.leases.acquire(s, "k", 1_000)))._tag, "gone after the renewed TTL").toBe(
        "Acquired",
      )
      expect(await run(renew(s, "k", lease.token, 1_000)), "a lapsed lease is not renewed").toBe(false)
    })

    it("leases: taken with the version read, refused as Changed once the key was written", async () => {
      const { store, run, space } = harness
      const leases = store.leases
      const versioned = store.versioned
      if (leases === undefined || versioned === undefined) return
      const s = space("conditional-leases")
      const read = (await run(versioned.get(s, "k"))).version
      // Someone filled the key after our miss: loading again would be a wasted loader call.
      expect(await run(versioned.fill(s, "k", text("filled"), 60_000, read))).toBe(true)
      const stale = await run(leases.acquire(s, "k", 1_000, read))
      // A store with versioned operations checks the version in the same atomic step (see Leases.acquire).
      expect(stale).toEqual({ _tag: "Changed" })
      const current = (await run(versioned.get(s, "k"))).version
      const lease = await run(leases.acquire(s, "j", 1_000, (await run(versioned.get(s, "j"))).version))
      expect(lease._tag).toBe("Acquired")
      // With the current version it is taken; a held lease stays Held whatever the version.
      if (stale._tag === "Acquired") await run(leases.release(s, "k", stale.token))
      const fresh = await run(leases.acquire(s, "k", 1_000, current))
      expect(fresh._tag).toBe("Acquired")
      expect((await run(leases.acquire(s, "k", 1_000, current)))._tag).toBe("Held")
    })

    it("leases: readOrAcquire reads a value without touching the lease, and leases a key that holds none", async () => {
      const { store, run, space } = harness
      const readOrAcquire = store.leases?.readOrAcquire
      if (readOrAcquire === undefined) return
      const s = space("read-or-lease")
      await run(store.set(s, "v", text("value"), 60_000))
      const hit = await run(readOrAcquire(s, "v", 1_000))
      expect(new TextDecoder().decode(hit.read.value)).toBe("value")
      expect(hit.lease).toBeUndefined()
      expect((await run(store.leases!.acquire(s, "v", 1_000)))._tag).toBe("Acquired")
      // Absent: the lease is taken, and held for the next caller.
      const cold = await run(readOrAcquire(s, "cold", 1_000))
      expect(cold.read).toEqual({ value: undefined, version: 0 })
      expect(cold.lease?._tag).toBe("Acquired")
      expect((await run(readOrAcquire(s, "cold", 1_000))).lease).toEqual({ _tag: "Held" })
      // A tombstone: its version comes back with the lease, and a fill on it lands.
      await run(store.delete(s, "gone"))
      const gone = await run(readOrAcquire(s, "gone", 1_000))
      expect(gone.read.value).toBeUndefined()
      expect(gone.read.version).toBe((await run(store.versioned!.get(s, "gone"))).version)
      expect(gone.lease?._tag).toBe("Acquired")
      expect(await run(store.versioned!.fill(s, "gone", text("loaded"), 60_000, gone.read.version))).toBe(
        true,
      )
    })

    it("leases: fillAndRelease fills on the version read, frees the lease, and says whether anyone waited", async () => {
      const { store, run, space } = harness
      const fillAndRelease = store.leases?.fillAndRelease
      if (fillAndRelease === undefined) return
      const s = space("fill-release")
      const tokenOf = (lease: Store.LeaseResult) => (lease._tag === "Acquired" ? lease.token : "")
      // Nobody waited.
      const quiet = tokenOf(await run(store.leases!.acquire(s, "a", 5_000, 0)))
      expect(await run(fillAndRelease(s, "a", text("one"), 60_000, 0, quiet))).toEqual({
        written: true,
        waited: false,
      })
      expect(new TextDecoder().decode(await run(store.get(s, "a")))).toBe("one")
      expect((await run(store.leases!.acquire(s, "a-free", 1_000)))._tag).toBe("Acquired")
      // Someone found it held.
      const busy = tokenOf(await run(store.leases!.acquire(s, "b", 5_000, 0)))
      expect((await run(store.leases!.acquire(s, "b", 5_000, 0)))._tag).toBe("Held")
      expect(await run(fillAndRelease(s, "b", text("two"), 60_000, 0, busy))).toEqual({
        written: true,
        waited: true,
      })
      expect((await run(store.leases!.acquire(s, "b", 1_000)))._tag).toBe("Acquired")
      // A write got there first: no fill, but the lease is still freed.
      const late = tokenOf(await run(store.leases!.acquire(s, "c", 5_000, 0)))
      await run(store.set(s, "c", text("newer"), 60_000))
      expect((await run(fillAndRelease(s, "c", text("stale"), 60_000, 0, late))).written).toBe(false)
      expect(new TextDecoder().decode(await run(store.get(s, "c")))).toBe("newer")
      expect((await run(store.leases!.acquire(s, "c", 1_000)))._tag).toBe("Acquired")
      // Another token's lease is left alone.
      const other = tokenOf(await run(store.leases!.acquire(s, "d", 5_000, 0)))
      await run(fillAndRelease(s, "d", text("x"), 60_000, 0, "not-the-token"))
      expect((await run(store.leases!.acquire(s, "d", 1_000)))._tag).toBe("Held")
      expect(await run(store.leases!.release(s, "d", other))).toBe(true)
    })

    it("states what it can do once: its name, whether it is local, and its optional operations", () => {
      const { capabilities, name: storeName, versioned, leases } = harness.store
      expect(typeof storeName).toBe("string")
      expect(typeof capabilities.local).toBe("boolean")
      expect(Object.keys(capabilities)).toEqual(["local"])
      if (versioned !== undefined) expect(typeof versioned.fill).toBe("function")
      if (leases !== undefined) expect(typeof leases.release).toBe("function")
    })
  })
}
