import { assert, describe, it } from "@effect/vitest"
import { WriteBehind, type WriteBehindEvent } from "@strata/patterns"
import { Deferred, Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { LastSeen, settle, source, Views } from "./fixtures.ts"

describe("WriteBehind: buffered writes flushed in batches", () => {
  it.effect("flushes when maxBatch keys are pending, without waiting for the interval", () =>
    Effect.gen(function* () {
      const { state, flush } = source<number, number>()
      const writer = yield* WriteBehind.make({
        keyspace: LastSeen,
        flush,
        maxBatch: 3,
        flushIntervalMillis: 60_000,
      })
      yield* writer.set(1, 10)
      yield* writer.set(2, 20)
      yield* settle
      assert.strictEqual(state.batches.length, 0)
      yield* writer.set(3, 30)
      yield* settle
      assert.deepStrictEqual(
        state.batches.map((b) => b.map((w) => w.key)),
        [[1, 2, 3]],
      )
    }),
  )

  it.effect("flushes by time: a write waits at most flushIntervalMillis", () =>
    Effect.gen(function* () {
      const { state, flush } = source<number, number>()
      const writer = yield* WriteBehind.make({ keyspace: LastSeen, flush, flushIntervalMillis: 1_000 })
      yield* settle
      yield* writer.set(7, 1)
      yield* TestClock.adjust(999)
      yield* settle
      assert.strictEqual(state.batches.length, 0)
      yield* TestClock.adjust(1)
      yield* settle
      assert.deepStrictEqual(state.rows, new Map([[7, 1]]))
      assert.strictEqual(writer.stats().flushedEntries, 1)
    }),
  )

  it.effect("the last write to a key wins within a batch, and the writer reads its pending writes", () =>
    Effect.gen(function* () {
      const { state, flush } = source<number, number>()
      const writer = yield* WriteBehind.make({ keyspace: LastSeen, flush, flushIntervalMillis: 1_000 })
      assert.deepStrictEqual(yield* writer.get(1), Option.none())
      yield* writer.set(1, 10)
      yield* writer.set(1, 11)
      yield* writer.set(2, 20)
      assert.deepStrictEqual(yield* writer.get(1), Option.some(11))
      yield* TestClock.adjust(1_000)
      yield* settle
      assert.deepStrictEqual(state.batches, [
        [
          { key: 1, id: LastSeen.storeKey(1), value: 11, writes: 2 },
          { key: 2, id: LastSeen.storeKey(2), value: 20, writes: 1 },
        ],
      ])
      // Flushed: no longer pending, the source is the place to read it.
      assert.deepStrictEqual(yield* writer.get(1), Option.none())
    }),
  )

  it.effect("a write made while its key is being flushed is read back and flushed next", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<void>()
      const batches: Array<ReadonlyArray<WriteBehind.PendingWrite<number, number>>> = []
      const flush = (batch: ReadonlyArray<WriteBehind.PendingWrite<number, number>>) =>
        Effect.sync(() => batches.push(batch)).pipe(Effect.andThen(Deferred.await(gate)))
      const writer = yield* WriteBehind.make({ keyspace: LastSeen, flush, flushIntervalMillis: 100 })
      yield* writer.set(1, 1)
      yield* TestClock.adjust(100)
      yield* settle
      assert.strictEqual(writer.stats().inFlight, 1)
      assert.deepStrictEqual(yield* writer.get(1), Option.some(1))
      yield* writer.set(1, 2)
      assert.deepStrictEqual(yield* writer.get(1), Option.some(2))
      yield* Deferred.succeed(gate, undefined)
      yield* TestClock.adjust(100)
      yield* settle
      assert.deepStrictEqual(
        batches.map((b) => b.map((w) => w.value)),
        [[1], [2]],
      )
    }),
  )

  it.effect(
    "a failed flush loses nothing: entries are retried with growing delays and each failure is reported",
    () =>
      Effect.gen(function* () {
        const { state, flush } = source<number, number>()
        state.failing = 3
        const writer = yield* WriteBehind.make({
          keyspace: LastSeen,
          flush,
          flushIntervalMillis: 100,
          retryInitialMillis: 50,
          retryMaxMillis: 150,
        })
        const seen: Array<WriteBehindEvent> = []
        writer.onEvent((event) => seen.push(event))
        yield* writer.set(1, 1)
        yield* writer.set(2, 2)
        yield* TestClock.adjust(100)
        yield* settle
        // A newer write during the failures wins over the failed batch's value.
        yield* writer.set(1, 3)
        for (let i = 0; i < 4; i++) {
          yield* TestClock.adjust(150)
          yield* settle
        }
        const failures = seen.filter((e) => e._tag === "FlushFailed")
        assert.deepStrictEqual(
          failures.map((e) => [e.attempt, e.retryInMillis]),
          [
            [1, 50],
            [2, 100],
            [3, 150],
          ],
        )
        assert.deepStrictEqual(
          state.rows,
          new Map([
            [1, 3],
            [2, 2],
          ]),
        )
        assert.strictEqual(writer.stats().failures, 3)
        assert.strictEqual(writer.stats().pending, 0)
      }),
  )

  it.effect(
    "a write made during a flush that then fails wins over the failed value; counters keep both",
    () =>
      Effect.gen(function* () {
        for (const [keyspace, expected] of [
          [LastSeen, 2],
          [Views, 3],
        ] as const) {
          const gate = yield* Deferred.make<void>()
          const rows = new Map<unknown, number>()
          let calls = 0
          const flush = (batch: ReadonlyArray<WriteBehind.PendingWrite<unknown, number>>) =>
            ++calls === 1
              ? Deferred.await(gate).pipe(Effect.andThen(Effect.fail("down")))
              : Effect.sync(() => {
                  for (const write of batch) rows.set(write.key, write.value)
                })
          const writer = yield* WriteBehind.make({
            keyspace: keyspace as typeof LastSeen,
            flush,
            flushIntervalMillis: 100,
            retryInitialMillis: 10,
          })
          // Views keys are strings, LastSeen keys numbers: one key of each.
          const key = (keyspace.kind === "counter" ? "1" : 1) as number
          const write = (value: number) =>
            keyspace.kind === "counter" ? writer.increment(key, value) : writer.set(key, value)
          yield* write(1)
          yield* TestClock.adjust(100)
          yield* settle
          yield* write(2)
          yield* Deferred.succeed(gate, undefined)
          yield* settle
          assert.deepStrictEqual(yield* writer.get(key), Option.some(expected))
          yield* TestClock.adjust(10)
          yield* settle
          assert.deepStrictEqual(rows, new Map([[key, expected]]))
        }
      }),
  )

  it.effect("a flush that throws instead of returning an effect is a failed flush, retried", () =>
    Effect.gen(function* () {
      const rows = new Map<number, number>()
      let calls = 0
      const flush = (batch: ReadonlyArray<WriteBehind.PendingWrite<number, number>>) => {
        if (++calls === 1) throw new Error("driver bug")
        return Effect.sync(() => {
          for (const write of batch) rows.set(write.key, write.value)
        })
      }
      const writer = yield* WriteBehind.make({
        keyspace: LastSeen,
        flush,
        flushIntervalMillis: 100,
        retryInitialMillis: 10,
      })
      const seen: Array<WriteBehindEvent> = []
      writer.onEvent((event) => seen.push(event))
      yield* writer.set(1, 1)
      yield* TestClock.adjust(100)
      yield* settle
      yield* TestClock.adjust(10)
      yield* settle
      assert.deepStrictEqual(
        seen.map((e) => e._tag),
        ["FlushFailed", "Flushed"],
      )
      assert.deepStrictEqual(rows, new Map([[1, 1]]))
    }),
  )

  it.effect("counters merge by sum; set and increment are refused on the wrong kind of keyspace", () =>
    Effect.gen(function* () {
      const { state, flush } = source<string, number>()
      const views = yield* WriteBehind.make({ keyspace: Views, flush, flushIntervalMillis: 100 })
      assert.strictEqual(yield* views.increment("/home"), 1)
      assert.strictEqual(yield* views.increment("/home", 4), 5)
      assert.strictEqual(yield* views.increment("/about", -2), -2)
      assert.deepStrictEqual(yield* views.get("/home"), Option.some(5))
      const fraction = yield* Effect.flip(views.increment("/home", 1.5))
      assert.strictEqual(fraction._tag, "InvalidArgument")
      const setOnCounter = yield* Effect.flip(views.set("/home", 3))
      assert.strictEqual(setOnCounter._tag, "InvalidArgument")
      yield* TestClock.adjust(100)
      yield* settle
      assert.deepStrictEqual(
        state.rows,
        new Map([
          ["/home", 5],
          ["/about", -2],
        ]),
      )
      const last = yield* WriteBehind.make({ keyspace: LastSeen, flush: () => Effect.void })
      assert.strictEqual((yield* Effect.flip(last.increment(1)))._tag, "InvalidArgument")
    }),
  )
})
