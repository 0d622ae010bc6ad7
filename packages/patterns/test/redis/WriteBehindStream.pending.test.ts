/**
 * The durable writer reads its own pending writes: `get(key)` is the last
 * value written through this writer and not yet acknowledged by a flush of
 * its batch, whichever process flushed it; `None` means "read the source".
 */
import { WriteBehindStream } from "@strata/patterns/redis"
import { RedisHarness } from "@strata/testkit"
import { Effect, Option, type Scope } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LastSeen } from "../fixtures.ts"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

let streams = 0
const fresh = () => ({
  redis: { url: server.url, commandTimeoutMillis: 5_000 },
  keyspace: LastSeen,
  stream: `wb-pending:${++streams}`,
})

type Batch = ReadonlyArray<WriteBehindStream.StreamWrite<number, number>>
/**
 * A source applying each write only above the version it stored (the
 * idempotency contract), whose flushes fail on the calls `failures` marks
 * (cycled).
 */
const versionedSource = (failures: ReadonlyArray<boolean> = []) => {
  const rows = new Map<number, { value: number; version: string }>()
  let call = 0
  const state = { failing: false }
  const flush = (batch: Batch) =>
    Effect.andThen(Effect.sleep(1), () => {
      if (state.failing || (failures.length > 0 && failures[call++ % failures.length]))
        return Effect.fail("source down" as const)
      for (const w of batch) {
        const row = rows.get(w.key)
        if (row === undefined || row.version < w.version)
          rows.set(w.key, { value: w.value, version: w.version })
      }
      return Effect.void
    })
  return { rows, flush, state, value: (key: number) => rows.get(key)?.value }
}

const run = <A, E>(f: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Effect.scoped(f))
const until = (check: () => boolean) =>
  Effect.gen(function* () {
    for (let waited = 0; !check(); waited += 10) {
      if (waited > 10_000) return yield* Effect.die(new Error("condition not met in time"))
      yield* Effect.sleep(10)
    }
  })

describe("WriteBehindStream.get: the writer reads its own pending writes", () => {
  it("property: get(k), or else the source, is always the last value written; after the flush nothing is pending", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxBatch: fc.integer({ min: 1, max: 4 }),
          // Every cycle of failures ends with a success, so the source comes back.
          failures: fc.array(fc.boolean(), { maxLength: 4 }).map((f) => [...f, false]),
          // Flushed by this writer's own flusher, or only by another process's (this one only appends).
          ownFlusher: fc.boolean(),
        }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer(), fc.integer({ min: 0, max: 3 })), {
          minLength: 1,
          maxLength: 25,
        }),
        async ({ maxBatch, failures, ownFlusher }, ops) => {
          const source = versionedSource(failures)
          const last = new Map<number, number>()
          const common = {
            ...fresh(),
            flush: source.flush,
            maxBatch,
            flushIntervalMillis: 2,
            retryInitialMillis: 1,
            retryMaxMillis: 2,
          }
          const after = await run(
            Effect.gen(function* () {
              const writer = yield* WriteBehindStream.make({ ...common, flusher: ownFlusher })
              const flusher = ownFlusher
                ? writer
                : yield* WriteBehindStream.make({ ...common, consumer: "other-process" })
              for (const [key, value, pause] of ops) {
                yield* writer.set(key, value)
                last.set(key, value)
                if (pause > 0) yield* Effect.sleep(pause)
                for (const [k, v] of last) {
                  const pending = yield* writer.get(k)
                  expect(Option.getOrElse(pending, () => source.value(k))).toBe(v)
                }
              }
              // Every write flushed and acknowledged (the source is written before the acknowledgement).
              yield* until(() => flusher.stats().flushedEntries === ops.length)
              const gets = yield* Effect.forEach([...last.keys()], (k) => writer.get(k))
              return { gets, pending: writer.stats().pending }
            }),
          )
          // Last write wins: the source holds each key's last value.
          expect(new Map([...last.keys()].map((k) => [k, source.value(k)]))).toEqual(last)
          expect(after.gets.every(Option.isNone)).toBe(true)
          // Nothing is held for flushed writes: the memory is released.
          expect(after.pending).toBe(0)
        },
      ),
      { numRuns: 25 },
    )
  })

  it("pending until acknowledged: not yet delivered, then taken by a failing flush, then flushed", async () => {
    const options = fresh()
    const source = versionedSource()
    source.state.failing = true
    const seen = await run(
      Effect.gen(function* () {
        const writer = yield* WriteBehindStream.make({ ...options, flush: source.flush, flusher: false })
        const none = yield* writer.get(1)
        yield* writer.set(1, 10)
        yield* writer.set(1, 11)
        yield* writer.set(2, 20)
        // No flusher has read the stream yet.
        const undelivered = [yield* writer.get(1), yield* writer.get(2)]
        const flusher = yield* WriteBehindStream.make({
          ...options,
          flush: source.flush,
          flushIntervalMillis: 10,
          retryInitialMillis: 10,
          retryMaxMillis: 20,
        })
        yield* until(() => flusher.stats().failures > 0)
        // Delivered to a flusher whose flush fails: unacknowledged, so still pending.
        const taken = [yield* writer.get(1), yield* writer.get(2)]
        source.state.failing = false
        yield* until(() => source.rows.size === 2)
        yield* until(() => flusher.stats().flushedEntries === 3)
        const flushed = [yield* writer.get(1), yield* writer.get(2)]
        const badKey = yield* Effect.flip(writer.get(1.5))
        return { none, undelivered, taken, flushed, pending: writer.stats().pending, badKey: badKey._tag }
      }),
    )
    expect(seen).toEqual({
      none: Option.none(),
      undelivered: [Option.some(11), Option.some(20)],
      taken: [Option.some(11), Option.some(20)],
      flushed: [Option.none(), Option.none()],
      pending: 0,
      badKey: "InvalidKey",
    })
  })

  it("writes flushed by another process are released without a read: the next write after an interval drops them", async () => {
    const options = fresh()
    const source = versionedSource()
    const seen = await run(
      Effect.gen(function* () {
        const writer = yield* WriteBehindStream.make({
          ...options,
          flush: source.flush,
          flusher: false,
          flushIntervalMillis: 20,
        })
        for (let k = 0; k < 10; k++) yield* writer.set(k, k)
        const held = writer.stats().pending
        const other = yield* WriteBehindStream.make({
          ...options,
          flush: source.flush,
          flushIntervalMillis: 10,
        })
        yield* until(() => other.stats().flushedEntries === 10)
        yield* Effect.sleep(30)
        yield* writer.set(100, 1)
        return {
          held,
          afterWrite: writer.stats().pending,
          gets: [yield* writer.get(100), yield* writer.get(3)],
        }
      }),
    )
    expect(seen).toEqual({ held: 10, afterWrite: 1, gets: [Option.some(1), Option.none()] })
  })

  it("two writers on one stream each read their own writes, not each other's", async () => {
    const options = fresh()
    const source = versionedSource()
    source.state.failing = true
    const seen = await run(
      Effect.gen(function* () {
        const a = yield* WriteBehindStream.make({ ...options, flush: source.flush, flusher: false })
        const b = yield* WriteBehindStream.make({ ...options, flush: source.flush, flusher: false })
        yield* a.set(1, 10)
        yield* b.set(2, 20)
        yield* b.set(1, 11)
        return [yield* a.get(1), yield* a.get(2), yield* b.get(1), yield* b.get(2)]
      }),
    )
    expect(seen).toEqual([Option.some(10), Option.none(), Option.some(11), Option.some(20)])
  })
})
