import { assert, describe, it } from "@effect/vitest"
import { BufferFull, type FlushIncomplete, WriteBehind, type WriteBehindEvent } from "@strata/patterns"
import { Deferred, Effect, Exit, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { LastSeen, settle, Views } from "./fixtures.ts"

/** A source that records every batch it receives; it fails while `failing` is above 0 (counting down). */
const source = <K, V>() => {
  const state = {
    batches: [] as Array<ReadonlyArray<WriteBehind.PendingWrite<K, V>>>,
    rows: new Map<K, V>(),
    failing: 0,
  }
  const flush = (batch: ReadonlyArray<WriteBehind.PendingWrite<K, V>>) =>
    Effect.suspend(() => {
      if (state.failing > 0) {
        state.failing--
        return Effect.fail(new Error("source down"))
      }
      state.batches.push(batch)
      for (const write of batch) state.rows.set(write.key, write.value)
      return Effect.void
    })
  return { state, flush }
}

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit)
    ? (exit.cause.reasons.find((r) => r._tag === "Fail") as { error: E } | undefined)?.error
    : undefined

describe("WriteBehind: buffered writes flushed in batches", () => {
  it.effect(
    "bad options are InvalidArgument at construction: batch size 0, negative or NaN interval, no flush",
    () =>
      Effect.gen(function* () {
        const { flush } = source<number, number>()
        const bad = [
          { maxBatch: 0 },
          { flushIntervalMillis: -5 },
          { flushIntervalMillis: Number.NaN },
          { maxPending: 1.5 },
          { retryInitialMillis: 50, retryMaxMillis: 10 },
          { closeTimeoutMillis: Number.POSITIVE_INFINITY },
        ]
        for (const options of bad) {
          const exit = yield* Effect.exit(WriteBehind.make({ keyspace: LastSeen, flush, ...options }))
          const error = failureOf(exit) as { _tag: string; argument: string }
          assert.strictEqual(error._tag, "InvalidArgument", JSON.stringify(options))
          assert.ok(Object.keys(options).includes(error.argument), error.argument)
        }
        const noFlush = yield* Effect.exit(
          WriteBehind.make({ keyspace: LastSeen } as unknown as WriteBehind.Options<
            number,
            number,
            never,
            never
          >),
        )
        assert.strictEqual((failureOf(noFlush) as { argument: string }).argument, "flush")
      }),
  )

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

  it.effect("a full buffer refuses new keys with BufferFull; keys already pending still merge", () =>
    Effect.gen(function* () {
      const { flush } = source<number, number>()
      const writer = yield* WriteBehind.make({
        keyspace: LastSeen,
        flush,
        maxPending: 2,
        flushIntervalMillis: 1_000,
      })
      yield* writer.set(1, 1)
      yield* writer.set(2, 2)
      const refused = yield* Effect.flip(writer.set(3, 3))
      assert.ok(refused instanceof BufferFull)
      assert.strictEqual(refused.limit, 2)
      yield* writer.set(1, 5)
      assert.deepStrictEqual(yield* writer.get(1), Option.some(5))
      assert.deepStrictEqual(yield* writer.get(3), Option.none())
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

  it.effect("bad keys and values are typed errors and nothing is buffered", () =>
    Effect.gen(function* () {
      const writer = yield* WriteBehind.make({ keyspace: LastSeen, flush: () => Effect.void })
      assert.strictEqual((yield* Effect.flip(writer.set(1.5 as number, 1)))._tag, "InvalidKey")
      assert.strictEqual((yield* Effect.flip(writer.set(1, "x" as unknown as number)))._tag, "InvalidValue")
      assert.strictEqual(writer.stats().pending, 0)
    }),
  )

  it.effect("close drains everything; writes after close are refused", () =>
    Effect.gen(function* () {
      const { state, flush } = source<number, number>()
      const writer = yield* WriteBehind.make({
        keyspace: LastSeen,
        flush,
        maxBatch: 2,
        flushIntervalMillis: 60_000,
      })
      yield* writer.set(1, 1)
      yield* writer.set(2, 2)
      yield* writer.set(3, 3)
      yield* writer.close
      assert.deepStrictEqual(
        state.rows,
        new Map([
          [1, 1],
          [2, 2],
          [3, 3],
        ]),
      )
      assert.strictEqual((yield* Effect.flip(writer.set(4, 4)))._tag, "WriteBehindClosed")
    }),
  )

  it.effect("close with a source that keeps failing reports what is left as FlushIncomplete", () =>
    Effect.gen(function* () {
      const { state, flush } = source<number, number>()
      state.failing = Number.POSITIVE_INFINITY
      const writer = yield* WriteBehind.make({
        keyspace: LastSeen,
        flush,
        closeTimeoutMillis: 1_000,
        retryInitialMillis: 100,
      })
      yield* writer.set(1, 1)
      yield* writer.set(2, 2)
      const fiber = yield* Effect.forkChild(Effect.flip(writer.close))
      yield* settle
      yield* TestClock.adjust(1_000)
      const error: FlushIncomplete = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "FlushIncomplete")
      assert.strictEqual(error.remaining, 2)
      assert.deepStrictEqual(
        (error.entries as ReadonlyArray<WriteBehind.PendingWrite<number, number>>)
          .map((w) => [w.key, w.value])
          .sort(),
        [
          [1, 1],
          [2, 2],
        ],
      )
    }),
  )
})
