import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  consistencyProperties,
  everyCopyIsCurrent,
  NODES,
  noCopyOlderThanAppliedInvalidation,
  raceWorkload,
  recordStaleCopies,
  simulate,
} from "../src/ConsistencyProperties.ts"
import { Sim } from "../src/ConsistencySim.ts"

consistencyProperties("memory store", {})

describe("the invariants bite: without the stale-fill guards the same checks fail", () => {
  it("the naive engine (no fill tickets, no compare-and-set fills) breaks invariant 1: a fill that read before a delete lands after it", async () => {
    const result = await fc.check(simulate({ unsafe: true }, everyCopyIsCurrent, {}, raceWorkload), {
      numRuns: 1_000,
    })
    expect(result.failed).toBe(true)
  })

  it("the naive engine also breaks invariant 3: a fill lands in L1 after the node applied a newer invalidation", async () => {
    const result = await fc.check(
      simulate(
        { unsafe: true },
        noCopyOlderThanAppliedInvalidation,
        { everyStep: recordStaleCopies },
        raceWorkload,
      ),
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
