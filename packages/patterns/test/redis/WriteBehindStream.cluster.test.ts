/**
 * The durable writer on a 3-master Redis Cluster. Its scripts touch one key,
 * the stream (the consumer group lives inside it, it is not a key), so they
 * run on the stream's slot without a hash tag, whichever master owns it.
 */
import { WriteBehindStream } from "@strata/patterns/redis"
import { RedisConnection } from "@strata/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Effect, Exit, Option, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LastSeen } from "../fixtures.ts"

let cluster: RedisHarness.RedisCluster
beforeAll(async () => {
  cluster = await RedisHarness.startCluster(3)
})
afterAll(async () => {
  await cluster?.stop()
})

type Batch = ReadonlyArray<WriteBehindStream.StreamWrite<number, number>>
const recorder = () => {
  const batches: Array<Batch> = []
  return { batches, flush: (batch: Batch) => Effect.sync(() => void batches.push(batch)) }
}
const options = (stream: string) => ({
  redis: { cluster: { nodes: cluster.startupNodes }, commandTimeoutMillis: 5_000 },
  keyspace: LastSeen,
  stream,
})
const waitFor = async (check: () => boolean | Promise<boolean>, millis = 10_000) => {
  const deadline = Date.now() + millis
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Runs `f` on a Cluster client of its own, closed after. */
const withClient = <A>(f: (client: RedisConnection.RedisClient) => Promise<A>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(
        RedisConnection.make({ cluster: { nodes: cluster.startupNodes }, commandTimeoutMillis: 5_000 }),
        (connection) => connection.call("test", f),
      ),
    ),
  )

// Streams spread over the masters (checked below), so the test runs on more than one master.
const STREAMS = ["wb-cluster:a", "wb-cluster:b", "wb-cluster:c", "wb-cluster:d", "wb-cluster:e"]

describe("WriteBehindStream on a Redis Cluster", () => {
  it("the streams used here live on more than one master", async () => {
    const masters = await withClient(async (client) => {
      const slots = await client.cluster("SLOTS")
      const owners = new Set<number>()
      for (const stream of STREAMS) {
        const slot = Number(await client.cluster("KEYSLOT", stream))
        owners.add(slots.find(([from, to]) => slot >= from && slot <= to)![2]![1])
      }
      return owners.size
    })
    expect(masters).toBeGreaterThan(1)
  })

  it("appends from a writer and flushes through the group, the newest write per key, on every stream's master", async () => {
    for (const stream of STREAMS) {
      const { batches, flush } = recorder()
      const pending = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const appender = yield* WriteBehindStream.make({ ...options(stream), flush, flusher: false })
            yield* appender.set(1, 10)
            yield* appender.set(1, 11)
            yield* appender.set(2, 20)
            const before = [yield* appender.get(1), yield* appender.get(2)]
            const flusher = yield* WriteBehindStream.make({
              ...options(stream),
              flush,
              flushIntervalMillis: 20,
            })
            // All three entries flushed and acknowledged.
            yield* Effect.promise(() => waitFor(() => flusher.stats().flushedEntries === 3))
            const after = [yield* appender.get(1), yield* appender.get(2)]
            return { before, after, kept: appender.stats().pending }
          }),
        ),
      )
      expect(batches.flat().map((w) => [w.key, w.value])).toEqual([
        [1, 11],
        [2, 20],
      ])
      expect(pending.before).toEqual([Option.some(11), Option.some(20)])
      expect(pending.after).toEqual([Option.none(), Option.none()])
      expect(pending.kept).toBe(0)
      // Acknowledged and trimmed: at most the last delivered entry is left.
      expect(await withClient((client) => client.xlen(stream))).toBeLessThanOrEqual(1)
    }
  })

  it("entries a stuck consumer took are claimed and flushed by another after claimIdleMillis", async () => {
    const stream = "wb-cluster:claim"
    const { batches, flush } = recorder()
    const scope = Effect.runSync(Scope.make())
    const stuck = await Effect.runPromise(
      Scope.provide(
        Effect.gen(function* () {
          // Its flush never returns: it takes the batch and holds it, as a hung or dead process would.
          const stuck = yield* WriteBehindStream.make({
            ...options(stream),
            consumer: "stuck",
            flush: () => Effect.never,
            maxBatch: 4,
            flushIntervalMillis: 60_000,
            closeTimeoutMillis: 1,
          })
          for (let k = 0; k < 4; k++) yield* stuck.set(k, k)
          return stuck
        }),
        scope,
      ),
    )
    await waitFor(async () => {
      const summary = (await withClient((client) => client.xpending(stream, "strata"))) as [number]
      return Number(summary[0]) === 4
    })
    // Taken by the stuck consumer and not acknowledged: still pending for the writer that wrote them.
    expect(await Effect.runPromise(stuck.get(3))).toEqual(Option.some(3))
    const claimed = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const rescuer = yield* WriteBehindStream.make({
            ...options(stream),
            flush,
            claimIdleMillis: 300,
            flushIntervalMillis: 20,
          })
          yield* Effect.promise(() => waitFor(() => rescuer.stats().flushedEntries === 4))
          return rescuer.stats().claimed
        }),
      ),
    )
    expect(claimed).toBe(4)
    expect(
      batches
        .flat()
        .map((w) => w.key)
        .sort(),
    ).toEqual([0, 1, 2, 3])
    // Flushed by another consumer: nothing is pending for the stuck writer any more.
    expect(await Effect.runPromise(stuck.get(3))).toEqual(Option.none())
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })
})
