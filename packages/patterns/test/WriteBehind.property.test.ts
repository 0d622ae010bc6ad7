import { WriteBehind } from "@strata/patterns"
import { Effect, Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { LastSeen, Views } from "./fixtures.ts"

/** A source whose flushes fail on the calls `failures` marks (cycled), recording what it accepted. */
const flakySource = <K>(
  failures: ReadonlyArray<boolean>,
  combine: (old: number | undefined, next: number) => number,
) => {
  const rows = new Map<K, number>()
  const batches: Array<ReadonlyArray<WriteBehind.PendingWrite<K, number>>> = []
  let call = 0
  // Each flush takes a millisecond, so writes arrive while a batch is in flight (and then fails or lands).
  const flush = (batch: ReadonlyArray<WriteBehind.PendingWrite<K, number>>) =>
    Effect.andThen(Effect.sleep(1), () => {
      const fail = failures.length > 0 && failures[call++ % failures.length]
      if (fail) return Effect.fail("source down" as const)
      batches.push(batch)
      for (const write of batch) rows.set(write.key, combine(rows.get(write.key), write.value))
      return Effect.void
    })
  return { rows, batches, flush }
}

const options = fc.record({
  maxBatch: fc.integer({ min: 1, max: 4 }),
  // Every cycle of failures ends with a success, so the source comes back.
  failures: fc.array(fc.boolean(), { maxLength: 6 }).map((f) => [...f, false]),
})

describe("WriteBehind properties (real clock, random flush failures)", () => {
  it("last write wins and the writer reads its pending writes: get(k) or else the source is always the last value written", async () => {
    await fc.assert(
      fc.asyncProperty(
        options,
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer(), fc.integer({ min: 0, max: 2 })), {
          minLength: 1,
          maxLength: 30,
        }),
        async ({ maxBatch, failures }, ops) => {
          const source = flakySource<number>(failures, (_old, next) => next)
          const last = new Map<number, number>()
          await Effect.runPromise(
            Effect.scoped(
              Effect.gen(function* () {
                const writer = yield* WriteBehind.make({
                  keyspace: LastSeen,
                  flush: source.flush,
                  maxBatch,
                  flushIntervalMillis: 1,
                  retryInitialMillis: 1,
                  retryMaxMillis: 2,
                })
                for (const [key, value, pause] of ops) {
                  yield* writer.set(key, value)
                  last.set(key, value)
                  if (pause > 0) yield* Effect.sleep(pause)
                  for (const [k, v] of last) {
                    const seen = Option.getOrElse(yield* writer.get(k), () => source.rows.get(k))
                    expect(seen).toBe(v)
                  }
                }
                yield* writer.close
              }),
            ),
          )
          expect(source.rows).toEqual(last)
          for (const batch of source.batches) {
            expect(new Set(batch.map((w) => w.key)).size).toBe(batch.length)
            expect(batch.length).toBeLessThanOrEqual(maxBatch)
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  it("counters merge by sum: after close the source holds every increment exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(
        options,
        fc.array(
          fc.tuple(
            fc.constantFrom("a", "b", "c"),
            fc.integer({ min: -5, max: 5 }),
            fc.integer({ min: 0, max: 2 }),
          ),
          { minLength: 1, maxLength: 30 },
        ),
        async ({ maxBatch, failures }, ops) => {
          const source = flakySource<string>(failures, (old, next) => (old ?? 0) + next)
          const totals = new Map<string, number>()
          await Effect.runPromise(
            Effect.scoped(
              Effect.gen(function* () {
                const views = yield* WriteBehind.make({
                  keyspace: Views,
                  flush: source.flush,
                  maxBatch,
                  flushIntervalMillis: 1,
                  retryInitialMillis: 1,
                  retryMaxMillis: 2,
                })
                for (const [key, by, pause] of ops) {
                  yield* views.increment(key, by)
                  totals.set(key, (totals.get(key) ?? 0) + by)
                  if (pause > 0) yield* Effect.sleep(pause)
                }
                yield* views.close
              }),
            ),
          )
          expect(source.rows).toEqual(totals)
        },
      ),
      { numRuns: 40 },
    )
  })
})
