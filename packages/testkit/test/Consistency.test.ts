import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type Operation, Sim } from "../src/ConsistencySim.ts"

const NODES = 3
const KEYS = ["a", "b"]
const RUNS = Number(process.env.CONSISTENCY_RUNS ?? 300)

const node = fc.nat(NODES - 1)
const key = fc.constantFrom(...KEYS)
const read = fc.record({ _tag: fc.constant("Read" as const), node, key })
const get = fc.record({ _tag: fc.constant("Get" as const), node, key })
const write = fc.record({ _tag: fc.constant("Write" as const), node, key, delay: fc.nat(8) })
/** A step of time of up to `max` ms (a barrier between groups of concurrent operations). */
const advance = (max: number) =>
  fc.record({ _tag: fc.constant("Advance" as const), millis: fc.integer({ min: 1, max }) })
/** Groups of concurrent operations separated by small steps of time (an `Advance` is a barrier). */
const workload: fc.Arbitrary<Array<Operation>> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: read },
    { weight: 1, arbitrary: get },
    { weight: 2, arbitrary: write },
    { weight: 1, arbitrary: advance(50) },
  ),
  { minLength: 2, maxLength: 16 },
)

/** Runs a workload in a fresh simulation and hands it to `check`; the scheduler's act hook runs `everyStep`. */
const simulate = (
  options: Omit<ConstructorParameters<typeof Sim>[1], "nodes"> & { nodes?: number },
  check: (sim: Sim) => Promise<void> | void,
  everyStep?: (sim: Sim) => void,
  operationsArbitrary: fc.Arbitrary<Array<Operation>> = workload,
) => {
  let current: Sim | undefined
  return fc.asyncProperty(
    fc.scheduler({
      act: async (f) => {
        await f()
        if (current !== undefined) everyStep?.(current)
      },
    }),
    operationsArbitrary,
    async (s, operations) => {
      const sim = new Sim(s, { nodes: NODES, ...options })
      current = sim
      await sim.start()
      try {
        await sim.runAll(operations)
        await check(sim)
      } finally {
        current = undefined
        await sim.stop()
      }
    },
  )
}

/** Invariant 1, as a check on a settled simulation. */
const everyCopyIsCurrent = async (sim: Sim) => {
  for (const k of KEYS) {
    const truth = sim.db.get(k) ?? 0
    const inL2 = await sim.l2(k)
    if (inL2 !== undefined) expect(inL2.version, `L2 copy of ${k}`).toBe(truth)
    for (let n = 0; n < NODES; n++) {
      const inL1 = sim.l1(n, k)
      if (inL1 !== undefined) expect(inL1.version, `L1 copy of ${k} on node ${n}`).toBe(truth)
    }
  }
}

/** Invariant 3, at any moment: no node's L1 is older than an invalidation it applied. Violations are recorded, not thrown mid-schedule. */
const violations = new WeakMap<Sim, Array<string>>()
const recordStaleCopies = (sim: Sim) => {
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
const noCopyOlderThanAppliedInvalidation = (sim: Sim) => {
  recordStaleCopies(sim)
  expect(violations.get(sim) ?? []).toEqual([])
}

describe("consistency of several nodes sharing one store and one bus (fc.scheduler orders every store call, delivery and load)", () => {
  it("1. at quiescence every L1 copy (and the L2 copy) is absent or equals the source of truth's current version", async () => {
    await fc.assert(simulate({}, everyCopyIsCurrent), { numRuns: RUNS })
  })

  it("2. a node never returns an older version after it has applied an invalidation for a newer one", async () => {
    await fc.assert(
      simulate({}, (sim) => {
        for (const o of sim.observations) {
          if (o.outcome._tag === "Value")
            expect(o.outcome.item.version).toBeGreaterThanOrEqual(o.appliedAtStart)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it("3. a fill that read version v never becomes visible after an invalidation newer than v was applied (checked after every step)", async () => {
    await fc.assert(simulate({}, noCopyOlderThanAppliedInvalidation, recordStaleCopies), {
      numRuns: RUNS,
    })
  })

  it("4. duplicated and reordered bus messages leave every copy current (invariants 1 and 3 with every message delivered twice)", async () => {
    await fc.assert(
      simulate(
        { duplicateDeliveries: true },
        async (sim) => {
          noCopyOlderThanAppliedInvalidation(sim)
          await everyCopyIsCurrent(sim)
        },
        recordStaleCopies,
      ),
      { numRuns: RUNS },
    )
  })

  it("5. a node never publishes an invalidation whose L2 write failed", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.infiniteStream(fc.boolean()),
        fc.scheduler(),
        workload,
        async (failures, s, operations) => {
          const sim = new Sim(s, { nodes: NODES, failDeletes: failures[Symbol.iterator]() })
          await sim.start()
          try {
            await sim.runAll(operations)
            for (let n = 0; n < NODES; n++) {
              for (const k of KEYS) {
                const storeKey = sim.Items.storeKey(k)
                expect(sim.published[n]!.get(storeKey) ?? 0, `node ${n}, key ${k}`).toBe(
                  sim.deletesOk[n]!.get(storeKey) ?? 0,
                )
              }
            }
          } finally {
            await sim.stop()
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  it("6. concurrent misses of one key on every node make one loader call in all; every caller gets its value; no flight, fill, waiter or lease is left", async () => {
    const concurrentReads = fc.array(
      read.map((r) => ({ ...r, key: "a" })),
      { minLength: 2, maxLength: 20 },
    )
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), concurrentReads, async (s, operations) => {
        const sim = new Sim(s, { nodes: NODES })
        await sim.start()
        try {
          await sim.runAll(operations)
          const calls = [...sim.loaderCalls.values()].reduce((a, b) => a + b, 0)
          expect(calls).toBe(1)
          const items = sim.observations.map((o) => (o.outcome._tag === "Value" ? o.outcome.item : o.outcome))
          expect(new Set(items.map((i) => JSON.stringify(i))).size).toBe(1)
          for (const cache of sim.caches) {
            const stats = cache.stats()
            expect([stats.flightsInProgress, stats.fillsInFlight, stats.leaseWaiters]).toEqual([0, 0, 0])
          }
          expect(await sim.leaseHeld("a")).toBe(false)
        } finally {
          await sim.stop()
        }
      }),
      { numRuns: RUNS },
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
        fc.scheduler(),
        timed,
        async (failures, s, operations) => {
          const sim = new Sim(s, {
            nodes: NODES,
            ttlMillis: ttl,
            staleForMillis: staleFor,
            failLoads: failures[Symbol.iterator](),
          })
          await sim.start()
          try {
            await sim.runAll(operations)
            for (const o of sim.observations) {
              if (o.outcome._tag !== "Value") continue
              const { loadedAt } = o.outcome.item
              expect(o.endedAt, "served past ttl + staleFor").toBeLessThan(loadedAt + ttl + staleFor)
              if (o.endedAt >= loadedAt + ttl)
                expect(o.staleEvents, "stale without a loader failure").toBeGreaterThan(0)
            }
          } finally {
            await sim.stop()
          }
        },
      ),
      { numRuns: RUNS },
    )
  })
})

/** A read, then a write of the same key from another node that lets the read get ahead: the stale-set race, plus noise. */
const raceWorkload: fc.Arbitrary<Array<Operation>> = fc
  .tuple(fc.nat(8), workload)
  .map(([delay, noise]) => [
    { _tag: "Read", node: 0, key: "a" },
    { _tag: "Write", node: 1, key: "a", delay },
    ...noise.slice(0, 4),
  ])

describe("the invariants bite: without the stale-fill guards the same checks fail", () => {
  it("the naive engine (no fill tickets, no compare-and-set fills) breaks invariant 1: a fill that read before a delete lands after it", async () => {
    const result = await fc.check(simulate({ unsafe: true }, everyCopyIsCurrent, undefined, raceWorkload), {
      numRuns: 1_000,
    })
    expect(result.failed).toBe(true)
  })

  it("the naive engine also breaks invariant 3: a fill lands in L1 after the node applied a newer invalidation", async () => {
    const result = await fc.check(
      simulate({ unsafe: true }, noCopyOlderThanAppliedInvalidation, recordStaleCopies, raceWorkload),
      { numRuns: 1_000 },
    )
    expect(result.failed).toBe(true)
  })

  it("without leases, concurrent misses on several nodes each call the loader: invariant 6's count of one fails", async () => {
    const concurrentReads = fc
      .tuple(
        fc.constant({ _tag: "Read" as const, node: 0, key: "a" }),
        fc.constant({ _tag: "Read" as const, node: 1, key: "a" }),
      )
      .map((ops) => [...ops])
    const result = await fc.check(
      fc.asyncProperty(fc.scheduler(), concurrentReads, async (s, operations) => {
        const sim = new Sim(s, { nodes: NODES, leases: false })
        await sim.start()
        try {
          await sim.runAll(operations)
          expect([...sim.loaderCalls.values()].reduce((a, b) => a + b, 0)).toBe(1)
        } finally {
          await sim.stop()
        }
      }),
      { numRuns: 50 },
    )
    expect(result.failed).toBe(true)
  })
})
