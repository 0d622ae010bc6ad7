/**
 * A model-based test of the tiered cache: two writer caches (each with its
 * own L1, store connection and bus) over one shared tier run random
 * sequences of commands, and after every command both writers and two new
 * caches with empty L1s read every key and must agree with a model of what
 * a correct cache holds. Register it for a store driver with
 * {@link tieredModel}, as `storeConformance` registers the store suite.
 *
 * Time is real, because a server such as Redis expires keys on its own
 * clock: the model tests use TTLs of an hour or more, so nothing expires
 * during a run, and one test uses real TTLs of 40–300 ms with real waits,
 * where the model knows each entry's expiry to within the time its write
 * took.
 *
 * @since 0.1.0
 */
import { Effect, Exit, Scope } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { commands } from "./internal/tieredArbitraries.ts"
import type { Command } from "./internal/tieredCommands.ts"
import { TieredState } from "./internal/tieredState.ts"
import { coverage, type Tiers, World } from "./internal/tieredWorld.ts"

/** The tiers of the two writers ("a", "b") and of the fresh readers. */
export type TieredTiers = Tiers

/** The configuration under test. */
export interface TieredUnderTest<E> {
  /**
   * Builds the tiers once per test, in a scope closed after it: a store for
   * writer A, writer B and the fresh readers (one instance for all three for
   * an in-process store; one connection each for a server, as separate
   * processes would have), and a bus for each writer on one channel. Runs
   * share them; each run uses keyspaces and tags named after a new run id,
   * so runs never see each other's entries and nothing is ever flushed.
   */
  readonly tiers: Effect.Effect<TieredTiers, E, Scope.Scope>
  /** Command sequences of the test over every command; default 300, or `STRATA_MODEL_RUNS`. */
  readonly numRuns?: number | undefined
  /** Sequences of each focused test; default 50 (`STRATA_MODEL_FOCUSED_RUNS`). */
  readonly focusedRuns?: number | undefined
  /** Sequences of the real-time expiry test; default 20 (`STRATA_MODEL_EXPIRY_RUNS`). */
  readonly expiryRuns?: number | undefined
  /**
   * The store's versions are random tokens up to 2^52 (Redis): the test then
   * also asserts that its runs read versions above 1e14, where Lua prints
   * numbers in exponent form, so the bugs that lives there cannot hide.
   */
  readonly largeVersions?: boolean | undefined
}

/** TTL of every keyspace in the model tests: long enough that nothing expires during a run. */
const LONG_TTL_MILLIS = 3_600_000

const runsFrom = (variable: string, fallback: number) => {
  const fromEnv = process.env[variable]
  return fromEnv === undefined ? fallback : Number(fromEnv)
}

/**
 * Registers the tiered model tests for one store and bus configuration:
 * the model over every command (`numRuns` sequences), focused tests on
 * delete-then-fill, counters, tags and clear, `set` on counters, and a
 * real-time expiry test.
 *
 * @example
 * ```ts
 * // test/TieredModel.test.ts
 * tieredModel("memory store, memory bus", {
 *   tiers: Effect.gen(function* () {
 *     const store = yield* MemoryStore.make({ maxEntries: 1_000_000 })
 *     const hub = MemoryBus.hub()
 *     return { stores: { a: store, b: store, reader: store }, buses: { a: hub.node("a"), b: hub.node("b") } }
 *   }),
 * })
 * ```
 */
export const tieredModel = <E>(name: string, options: TieredUnderTest<E>): void => {
  const numRuns = options.numRuns ?? runsFrom("STRATA_MODEL_RUNS", 300)
  const focusedRuns = options.focusedRuns ?? runsFrom("STRATA_MODEL_FOCUSED_RUNS", 50)
  const expiryRuns = options.expiryRuns ?? runsFrom("STRATA_MODEL_EXPIRY_RUNS", 20)

  // Hundreds of runs against real servers on a busy CI machine take minutes, not the default seconds.
  describe(`Tiered cache model: ${name}`, { timeout: 300_000 }, () => {
    let scope: Scope.Closeable
    let tiers: TieredTiers

    beforeAll(async () => {
      scope = Effect.runSync(Scope.make())
      tiers = await Effect.runPromise(Scope.provide(options.tiers, scope))
    })
    afterAll(async () => {
      if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
    })

    const check = async (
      arbitraries: ReadonlyArray<fc.Arbitrary<Command>>,
      runs: number,
      maxCommands: number,
    ) => {
      await fc.assert(
        fc.asyncProperty(fc.commands([...arbitraries], { maxCommands }), async (cmds) => {
          const world = await World.open(tiers, LONG_TTL_MILLIS)
          try {
            await fc.asyncModelRun(() => ({ model: new TieredState(), real: world }), cmds)
          } finally {
            await world.close()
          }
        }),
        { numRuns: runs },
      )
    }

    it("results equal the model for any sequence of commands: both writers and fresh readers agree after every command", async () => {
      const before = coverage.largeVersions
      await check(commands.every, numRuns, 30)
      if (options.largeVersions === true)
        expect(coverage.largeVersions - before, "the runs read versions above 1e14").toBeGreaterThan(0)
    })

    it("a fill after a delete is stored, readable by every cache and loaded once (delete, then getOrSet)", () =>
      check(commands.deleteThenFill, focusedRuns, 10))

    it("a counter counts from 0 after a delete and keeps counting (delete then increment, negative steps, steps past 1e14)", () =>
      check(commands.counters, focusedRuns, 10))

    it("tag invalidation and clear make entries a miss for every cache, and later writes are seen", () =>
      check(commands.tagsAndClear, focusedRuns, 12))

    it("increment continues from a value written by set on a counter keyspace", () =>
      check(commands.setCounter, focusedRuns, 8))

    it("nothing is served after its TTL, and everything before it (real TTLs of 40-300 ms, real waits)", () =>
      check(commands.expiry, expiryRuns, 15))
  })
}
