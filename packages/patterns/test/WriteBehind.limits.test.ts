import { assert, describe, it } from "@effect/vitest"
import { BufferFull, FlushIncomplete, WriteBehind } from "@strata/patterns"
import { Cause, Effect, Exit, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { LastSeen, settle, source } from "./fixtures.ts"

const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit)
    ? (exit.cause.reasons.find((r) => r._tag === "Fail") as { error: E } | undefined)?.error
    : undefined

describe("WriteBehind: bad input, bounds and closing", () => {
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

  it("FlushIncomplete's message never throws, whatever its cause (an Effect Cause, an object with no string form)", () => {
    const message = (cause: unknown) =>
      new FlushIncomplete({ writer: "w", remaining: 0, entries: [], cause }).message
    // Error printers (vitest's among them) read it on copies whose cause has no prototype.
    assert.include(message(Object.create(null)), "could not reach its source or its stream ([object Object])")
    assert.include(message(Cause.fail(new Error("NOGROUP gone"))), "(NOGROUP gone)")
    assert.include(message("timeout"), "(timeout)")
  })
})
