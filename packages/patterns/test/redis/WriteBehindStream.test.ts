import { WriteBehindStream } from "@strata/patterns/redis"
import { RedisHarness } from "@strata/testkit"
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LastSeen, Views } from "../fixtures.ts"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

let streams = 0
/** Options for a writer on a fresh stream of this test file's server. */
const fresh = () => ({
  redis: { url: server.url, commandTimeoutMillis: 5_000 },
  keyspace: LastSeen,
  stream: `wb-test:${++streams}`,
})

type Batch = ReadonlyArray<WriteBehindStream.StreamWrite<number, number>>
const recorder = () => {
  const batches: Array<Batch> = []
  return { batches, flush: (batch: Batch) => Effect.sync(() => void batches.push(batch)) }
}

/** Runs `f` with a scope of its own and closes it after. */
const scoped = <A, E>(f: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Effect.scoped(f))

const waitFor = async (check: () => boolean | Promise<boolean>, millis = 10_000) => {
  const deadline = Date.now() + millis
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const xlen = async (stream: string) =>
  Number(await RedisHarness.command(server.port, ["XLEN", stream]).then((r) => r.slice(1)))

describe("WriteBehindStream: durable write-behind on a Redis Stream", () => {
  it("flushes the newest write of each key with increasing versions, then trims the stream", async () => {
    const options = fresh()
    const { batches, flush } = recorder()
    const versions = await scoped(
      Effect.gen(function* () {
        // Written before any flusher runs, so that one read takes all three.
        const appender = yield* WriteBehindStream.make({ ...options, flush, flusher: false })
        const versions = [yield* appender.set(1, 10), yield* appender.set(1, 11), yield* appender.set(2, 20)]
        yield* WriteBehindStream.make({ ...options, flush, flushIntervalMillis: 20 })
        yield* Effect.promise(() => waitFor(() => batches.flat().length >= 2))
        return versions
      }),
    )
    expect([...versions].sort()).toEqual(versions)
    const flushed = batches.flat()
    expect(flushed.map((w) => [w.key, w.value])).toEqual([
      [1, 11],
      [2, 20],
    ])
    expect(flushed[0]!.version).toBe(versions[1])
    expect(flushed[0]!.entryIds.map(WriteBehindStream.versionOf)).toEqual([versions[0], versions[1]])
    // Everything acknowledged: the stream keeps at most the last delivered entry.
    expect(await xlen(options.stream)).toBeLessThanOrEqual(1)
  })

  it("bad options are InvalidArgument before connecting; counters are refused", async () => {
    const { flush } = recorder()
    for (const bad of [
      { maxBatch: 0 },
      { maxBatch: 1_001 },
      { claimIdleMillis: Number.NaN },
      { flushIntervalMillis: -1 },
    ]) {
      const exit = await Effect.runPromiseExit(
        Effect.scoped(WriteBehindStream.make({ ...fresh(), flush, ...bad })),
      )
      expect(JSON.stringify(exit)).toContain('"_tag":"InvalidArgument"')
    }
    const counter = await Effect.runPromiseExit(
      Effect.scoped(
        WriteBehindStream.make({ ...fresh(), keyspace: Views as unknown as typeof LastSeen, flush }),
      ),
    )
    expect(JSON.stringify(counter)).toContain('"argument":"keyspace"')
  })

  it("a failing flush keeps its entries unacknowledged and retries them; nothing is lost", async () => {
    const options = fresh()
    let failures = 2
    const rows = new Map<number, number>()
    const seen: Array<string> = []
    await scoped(
      Effect.gen(function* () {
        const writer = yield* WriteBehindStream.make({
          ...options,
          flushIntervalMillis: 20,
          retryInitialMillis: 20,
          flush: (batch) =>
            failures-- > 0
              ? Effect.fail("source down")
              : Effect.sync(() => {
                  for (const w of batch) rows.set(w.key, w.value)
                }),
        })
        writer.onEvent((e) => seen.push(e._tag))
        for (let k = 0; k < 5; k++) yield* writer.set(k, k * 100)
        yield* Effect.promise(() => waitFor(() => rows.size === 5))
      }),
    )
    expect(rows).toEqual(new Map([0, 1, 2, 3, 4].map((k) => [k, k * 100])))
    expect(seen.filter((t) => t === "FlushFailed").length).toBe(2)
    expect(seen).toContain("Flushed")
  })

  it("writes refused past maxLength with BufferFull; a flusher started later flushes what was written before it", async () => {
    const options = fresh()
    const { batches, flush } = recorder()
    const refused = await scoped(
      Effect.gen(function* () {
        const appender = yield* WriteBehindStream.make({ ...options, flush, flusher: false, maxLength: 3 })
        for (let k = 0; k < 3; k++) yield* appender.set(k, k)
        return yield* Effect.flip(appender.set(9, 9))
      }),
    )
    expect(refused._tag).toBe("BufferFull")
    expect(batches).toEqual([])
    await scoped(
      Effect.gen(function* () {
        yield* WriteBehindStream.make({ ...options, flush, flushIntervalMillis: 20 })
        yield* Effect.promise(() => waitFor(() => batches.flat().length === 3))
      }),
    )
    expect(
      batches
        .flat()
        .map((w) => w.key)
        .sort(),
    ).toEqual([0, 1, 2])
  })

  it("two flushers in one group: each entry is flushed by exactly one of them", async () => {
    const options = fresh()
    const a = recorder()
    const b = recorder()
    await scoped(
      Effect.gen(function* () {
        const one = yield* WriteBehindStream.make({
          ...options,
          flush: a.flush,
          maxBatch: 5,
          flushIntervalMillis: 5,
        })
        yield* WriteBehindStream.make({ ...options, flush: b.flush, maxBatch: 5, flushIntervalMillis: 5 })
        for (let k = 0; k < 60; k++) yield* one.set(k, k)
        yield* Effect.promise(() => waitFor(() => a.batches.flat().length + b.batches.flat().length >= 60))
      }),
    )
    const ids = [...a.batches.flat(), ...b.batches.flat()].flatMap((w) => w.entryIds)
    expect(new Set(ids).size).toBe(60)
    expect(ids.length).toBe(60)
  })

  it("entries another consumer took and never acknowledged are claimed after claimIdleMillis", async () => {
    const options = fresh()
    const { batches, flush } = recorder()
    const scope = Effect.runSync(Scope.make())
    // A consumer whose flush never returns: it takes a batch and holds it, as a stuck or dead process would.
    await Effect.runPromise(
      Scope.provide(
        Effect.gen(function* () {
          const stuck = yield* WriteBehindStream.make({
            ...options,
            consumer: "stuck",
            flush: () => Effect.never,
            // Woken by the 4th append, it takes all 4 in one read (no timer tick in between).
            maxBatch: 4,
            flushIntervalMillis: 60_000,
            closeTimeoutMillis: 1,
          })
          for (let k = 0; k < 4; k++) yield* stuck.set(k, k)
        }),
        scope,
      ),
    )
    await waitFor(async () =>
      (await RedisHarness.command(server.port, ["XPENDING", options.stream, "strata"])).includes(":4"),
    )
    const claimed = await scoped(
      Effect.gen(function* () {
        const rescuer = yield* WriteBehindStream.make({
          ...options,
          flush,
          claimIdleMillis: 300,
          flushIntervalMillis: 20,
        })
        yield* Effect.promise(() => waitFor(() => batches.flat().length === 4))
        return rescuer.stats().claimed
      }),
    )
    expect(claimed).toBe(4)
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("close with a source that keeps failing is FlushIncomplete, and the batch stays in the stream for others", async () => {
    const options = fresh()
    const { incomplete, afterClose } = await scoped(
      Effect.gen(function* () {
        const appender = yield* WriteBehindStream.make({
          ...options,
          flush: () => Effect.void,
          flusher: false,
        })
        for (let k = 0; k < 3; k++) yield* appender.set(k, k)
        const writer = yield* WriteBehindStream.make({
          ...options,
          flush: () => Effect.fail("source down"),
          flushIntervalMillis: 20,
          retryInitialMillis: 20,
          closeTimeoutMillis: 300,
        })
        yield* Effect.promise(() => waitFor(() => writer.stats().failures > 0))
        const incomplete = yield* Effect.flip(writer.close)
        return { incomplete, afterClose: yield* Effect.flip(writer.set(9, 9)) }
      }),
    )
    expect(incomplete._tag).toBe("FlushIncomplete")
    expect(incomplete.remaining).toBe(3)
    expect(afterClose._tag).toBe("WriteBehindClosed")
    expect(await RedisHarness.command(server.port, ["XPENDING", options.stream, "strata"])).toMatch(
      /^\*4\r\n:3\r/,
    )
  })

  it("an entry that cannot be read is reported and acknowledged, and does not block the others", async () => {
    const options = fresh()
    const { batches, flush } = recorder()
    await RedisHarness.command(server.port, [
      "XADD",
      options.stream,
      "*",
      "k",
      "x",
      "e",
      "not msgpack of a pair",
    ])
    const seen: Array<string> = []
    await scoped(
      Effect.gen(function* () {
        const writer = yield* WriteBehindStream.make({ ...options, flush, flushIntervalMillis: 20 })
        writer.onEvent((e) => seen.push(e._tag))
        yield* writer.set(5, 5)
        yield* Effect.promise(() => waitFor(() => batches.flat().length === 1))
      }),
    )
    expect(seen).toContain("EntryUnreadable")
    expect(batches.flat().map((w) => w.key)).toEqual([5])
  })
})
