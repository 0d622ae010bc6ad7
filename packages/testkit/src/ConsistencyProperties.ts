/**
 * The engine's consistency invariants, numbered 1–7, as property tests on
 * {@link Sim}: three caches share one store and one bus, and `fc.scheduler`
 * orders every store call, bus delivery and load. The store is a memory
 * store by default or a real one (Redis): its calls then really run between
 * the scheduler's points. Where an invariant concerns what is stored, a
 * fresh reader (a cache with no L1) also reads every key after every
 * scheduler step. Register the invariants for a store with
 * {@link consistencyProperties}.
 *
 * @since 0.1.0
 */
import type { Store } from "@strata/core"
import { Effect, Exit, Scope } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Operation, Sim, type SimOptions } from "./ConsistencySim.ts"

/** Nodes (caches) of every simulation. */
export const NODES = 3
/** The keys workloads use. */
export const KEYS: ReadonlyArray<string> = ["a", "b"]

const node = fc.nat(NODES - 1)
const key = fc.constantFrom(...KEYS)
/** A `getOrSet` on one node. */
export const read = fc.record({ _tag: fc.constant("Read" as const), node, key })
const get = fc.record({ _tag: fc.constant("Get" as const), node, key })
const write = fc.record({ _tag: fc.constant("Write" as const), node, key, delay: fc.nat(8) })
/** A step of time of up to `max` ms (a barrier between groups of concurrent operations). */
export const advance = (max: number) =>
  fc.record({ _tag: fc.constant("Advance" as const), millis: fc.integer({ min: 1, max }) })
/** Groups of concurrent operations separated by small steps of time (an `Advance` is a barrier). */
export const workload: fc.Arbitrary<Array<Operation>> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: read },
    { weight: 1, arbitrary: get },
    { weight: 2, arbitrary: write },
    { weight: 1, arbitrary: advance(50) },
  ),
  { minLength: 2, maxLength: 16 },
)

/** A read, then a write of the same key from another node that lets the read get ahead: the stale-set race, plus noise. */
export const raceWorkload: fc.Arbitrary<Array<Operation>> = fc
  .tuple(fc.nat(8), workload)
  .map(([delay, noise]) => [
    { _tag: "Read", node: 0, key: "a" },
    { _tag: "Write", node: 1, key: "a", delay },
    ...noise.slice(0, 4),
  ])

/** Simulation options without the node count (always {@link NODES}). */
export type SimulateOptions = Omit<SimOptions, "nodes">

/**
 * A scheduler whose every step waits for the store calls it released (a
 * real store answers over the network), then runs `afterStep` on the
 * current simulation. `holder.sim` is set while a simulation runs.
 */
export const settlingScheduler = (
  holder: { sim: Sim | undefined },
  afterStep?: (sim: Sim) => Promise<void> | void,
) =>
  fc.scheduler({
    act: async (f) => {
      await f()
      const sim = holder.sim
      if (sim === undefined) return
      await sim.settle()
      await afterStep?.(sim)
    },
  })

/**
 * A property running a workload in a fresh simulation and handing it to
 * `check`. After every scheduler step, `freshReads` reads every key through
 * a fresh reader (see `Sim.freshRead`), then `everyStep` runs.
 */
export const simulate = (
  options: SimulateOptions,
  check: (sim: Sim) => Promise<void> | void,
  { everyStep, freshReads = false }: { everyStep?: (sim: Sim) => void; freshReads?: boolean } = {},
  operationsArbitrary: fc.Arbitrary<Array<Operation>> = workload,
) => {
  const holder: { sim: Sim | undefined } = { sim: undefined }
  return fc.asyncProperty(
    settlingScheduler(holder, async (sim) => {
      if (freshReads) for (const k of KEYS) await sim.freshRead(k)
      everyStep?.(sim)
    }),
    operationsArbitrary,
    async (s, operations) => {
      const sim = new Sim(s, { nodes: NODES, ...options })
      holder.sim = sim
      await sim.start()
      try {
        await sim.runAll(operations)
        await check(sim)
      } finally {
        holder.sim = undefined
        await sim.stop()
      }
    },
  )
}

/** Invariant 1, as a check on a settled simulation: every copy, and what a fresh reader finds, is current. */
export const everyCopyIsCurrent = async (sim: Sim) => {
  for (const k of KEYS) {
    const truth = sim.db.get(k) ?? 0
    const inL2 = await sim.l2(k)
    if (inL2 !== undefined) expect(inL2.version, `L2 copy of ${k}`).toBe(truth)
    const fresh = await sim.freshRead(k)
    if (fresh !== undefined) expect(fresh.version, `what a fresh reader finds under ${k}`).toBe(truth)
    for (let n = 0; n < NODES; n++) {
      const inL1 = sim.l1(n, k)
      if (inL1 !== undefined) expect(inL1.version, `L1 copy of ${k} on node ${n}`).toBe(truth)
    }
  }
  expect(sim.storeViolations, "what fresh readers found after every step").toEqual([])
}

/** Invariant 3, at any moment: no node's L1 is older than an invalidation it applied. Violations are recorded, not thrown mid-schedule. */
const violations = new WeakMap<Sim, Array<string>>()
/** Records (for {@link noCopyOlderThanAppliedInvalidation}) every L1 copy older than an invalidation its node applied. */
export const recordStaleCopies = (sim: Sim) => {
  for (let n = 0; n < NODES; n++) {
    for (const k of KEYS) {
      const inL1 = sim.l1(n, k)
      const applied = sim.applied[n]!.get(sim.Items.storeKey(k)) ?? 0
      if (inL1 !== undefined && inL1.version < applied) {
        const list = violations.get(sim) ?? []
        list.push(`node ${n} holds ${k}@v${inL1.version} after applying an invalidation for v${applied}`)
        violations.set(sim, list)
      }
    }
  }
}
/** Invariant 3's final check, with what fresh readers found after every step. */
export const noCopyOlderThanAppliedInvalidation = (sim: Sim) => {
  recordStaleCopies(sim)
  expect(violations.get(sim) ?? []).toEqual([])
  expect(sim.storeViolations, "what fresh readers found after every step").toEqual([])
}

/** The configuration under test. */
export interface ConsistencyUnderTest<E> {
  /**
   * Builds the shared tier once for all the tests, in a scope closed after
   * them. Default: a new memory store per simulation.
   */
  readonly store?: Effect.Effect<Store.Service, E, Scope.Scope> | undefined
  /** Runs per invariant; default `CONSISTENCY_RUNS` or 300. */
  readonly numRuns?: number | undefined
  /** Lease lifetime in ms (see `SimOptions.leaseTtlMillis`). */
  readonly leaseTtlMillis?: number | undefined
}

/**
 * Registers invariants 1–7 for one store, each running `numRuns` workloads.
 *
 * @example
 * ```ts
 * consistencyProperties("memory store", {})
 * consistencyProperties("standalone Redis", { store: RedisStore.make({ url }), numRuns: 100, leaseTtlMillis: 5_000 })
 * ```
 */
export const consistencyProperties = <E>(name: string, options: ConsistencyUnderTest<E>): void => {
  const numRuns = options.numRuns ?? Number(process.env.CONSISTENCY_RUNS ?? 300)
  let scope: Scope.Closeable | undefined
  let store: Store.Service | undefined
  const base = (): SimulateOptions => ({ store, leaseTtlMillis: options.leaseTtlMillis })
  const holder: { sim: Sim | undefined } = { sim: undefined }
  /** Runs `body` on a fresh simulation with the scheduler `s`. */
  const withSim = async (s: fc.Scheduler, extra: SimulateOptions, body: (sim: Sim) => Promise<void>) => {
    const sim = new Sim(s, { nodes: NODES, ...base(), ...extra })
    holder.sim = sim
    await sim.start()
    try {
      await body(sim)
    } finally {
      holder.sim = undefined
      await sim.stop()
    }
  }

  // Hundreds of runs against a real server on a busy CI machine take minutes, not the default seconds.
  describe(`consistency of several nodes sharing one store and one bus (fc.scheduler orders every store call, delivery and load): ${name}`, {
    timeout: 300_000,
  }, () => {
    beforeAll(async () => {
      if (options.store === undefined) return
      scope = Effect.runSync(Scope.make())
      store = await Effect.runPromise(Scope.provide(options.store, scope))
    })
    afterAll(async () => {
      if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    })

    it("1. at quiescence every L1 copy (and the L2 copy, and what a fresh reader finds) is absent or equals the source of truth's current version; after every step nothing stored is older than a returned write or undecodable", async () => {
      await fc.assert(simulate(base(), everyCopyIsCurrent, { freshReads: true }), { numRuns })
    })

    it("2. a node never returns an older version after it has applied an invalidation for a newer one", async () => {
      await fc.assert(
        simulate(base(), (sim) => {
          for (const o of sim.observations) {
            if (o.outcome._tag === "Value")
              expect(o.outcome.item.version).toBeGreaterThanOrEqual(o.appliedAtStart)
          }
        }),
        { numRuns },
      )
    })

    it("3. a fill that read version v never becomes visible after an invalidation newer than v was applied (checked after every step, in L1 and by a fresh reader)", async () => {
      await fc.assert(
        simulate(base(), noCopyOlderThanAppliedInvalidation, {
          everyStep: recordStaleCopies,
          freshReads: true,
        }),
        { numRuns },
      )
    })

    it("4. duplicated and reordered bus messages leave every copy current (invariants 1 and 3 with every message delivered twice)", async () => {
      await fc.assert(
        simulate(
          { ...base(), duplicateDeliveries: true },
          async (sim) => {
            noCopyOlderThanAppliedInvalidation(sim)
            await everyCopyIsCurrent(sim)
          },
          { everyStep: recordStaleCopies, freshReads: true },
        ),
        { numRuns },
      )
    })

    it("5. a node never publishes an invalidation whose L2 write failed", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.infiniteStream(fc.boolean()),
          settlingScheduler(holder),
          workload,
          (failures, s, operations) =>
            withSim(s, { failDeletes: failures[Symbol.iterator]() }, async (sim) => {
              await sim.runAll(operations)
              for (let n = 0; n < NODES; n++) {
                for (const k of KEYS) {
                  const storeKey = sim.Items.storeKey(k)
                  expect(
                    sim.published[n]!.get(storeKey) ?? 0,
                    `invalidations node ${n} published for ${k} = its store deletes that succeeded`,
                  ).toBe(sim.deletesOk[n]!.get(storeKey) ?? 0)
                }
              }
            }),
        ),
        { numRuns },
      )
    })

    it("6. concurrent misses of one key on every node make one loader call in all; every caller gets its value; no flight, fill, waiter or lease is left", async () => {
      const concurrentReads = fc.array(
        read.map((r) => ({ ...r, key: "a" })),
        { minLength: 2, maxLength: 20 },
      )
      await fc.assert(
        fc.asyncProperty(settlingScheduler(holder), concurrentReads, (s, operations) =>
          withSim(s, {}, async (sim) => {
            await sim.runAll(operations)
            const calls = [...sim.loaderCalls.values()].reduce((a, b) => a + b, 0)
            expect(calls).toBe(1)
            const items = sim.observations.map((o) =>
              o.outcome._tag === "Value" ? o.outcome.item : o.outcome,
            )
            expect(new Set(items.map((i) => JSON.stringify(i))).size).toBe(1)
            for (const cache of sim.caches) {
              const stats = cache.stats()
              expect([stats.flightsInProgress, stats.fillsInFlight, stats.leaseWaiters]).toEqual([0, 0, 0])
            }
            expect(await sim.leaseHeld("a")).toBe(false)
          }),
        ),
        { numRuns },
      )
    })

    it("7. nothing is served past ttl + staleFor, and a stale value only when the loader failed", async () => {
      const ttl = 100
      const staleFor = 100
      const timed = fc.array(
        fc.oneof(
          { weight: 4, arbitrary: read },
          { weight: 1, arbitrary: write },
          { weight: 2, arbitrary: advance(150) },
        ),
        { minLength: 2, maxLength: 14 },
      )
      await fc.assert(
        fc.asyncProperty(
          fc.infiniteStream(fc.boolean()),
          settlingScheduler(holder),
          timed,
          (failures, s, operations) =>
            withSim(
              s,
              { ttlMillis: ttl, staleForMillis: staleFor, failLoads: failures[Symbol.iterator]() },
              async (sim) => {
                await sim.runAll(operations)
                for (const o of sim.observations) {
                  if (o.outcome._tag !== "Value") continue
                  const { loadedAt } = o.outcome.item
                  expect(o.endedAt, "served past ttl + staleFor").toBeLessThan(loadedAt + ttl + staleFor)
                  if (o.endedAt >= loadedAt + ttl)
                    expect(o.staleEvents, "stale without a loader failure").toBeGreaterThan(0)
                }
              },
            ),
        ),
        { numRuns },
      )
    })
  })
}
