import { WriteBehindStream } from "@strata/patterns/redis"
import { RedisConnection } from "@strata/redis"
import { RedisHarness, WorkerProcess } from "@strata/testkit/servers"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LastSeen } from "../fixtures.ts"
import { readSource, versionedFlush } from "../processes/source.ts"

let server: RedisHarness.RedisServer
let cluster: RedisHarness.RedisCluster
beforeAll(async () => {
  server = await RedisHarness.startRedis()
  cluster = await RedisHarness.startCluster(3)
})
afterAll(async () => {
  await cluster?.stop()
  await RedisHarness.stopAll([server])
})

const KEYS = 20
const ROUNDS = 3

/** The group's pending count and consumer names, and the source's rows. */
const observe = (connection: RedisConnection.Connection, stream: string, source: string) =>
  Effect.gen(function* () {
    const summary = yield* connection.call("XPENDING", (c) => c.xpending(stream, "strata"))
    const consumers = yield* connection.call("XINFO", (c) => c.xinfo("CONSUMERS", stream, "strata"))
    return {
      pending: Number((summary as [unknown])[0]),
      consumers: JSON.stringify(consumers),
      ...(yield* readSource(connection, source)),
    }
  })

/**
 * A writer process takes every write and applies the first half of the
 * keys, then is killed with SIGKILL before it acknowledges; a second writer
 * in this process claims and flushes the entries after `claimIdleMillis`.
 */
const crashAndRecover = (redis: RedisConnection.Options, env: Record<string, string>, stream: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      // A hash tag keeps the source's three keys in one slot: its script takes them together.
      const source = `{${stream}-source}`
      const connection = yield* RedisConnection.make(redis)
      const worker = yield* Effect.promise(() =>
        WorkerProcess.start(new URL("../processes/durableWriter.ts", import.meta.url), {
          ...env,
          STREAM: stream,
          SOURCE: source,
          KEYS: String(KEYS),
          WRITES: String(KEYS * ROUNDS),
        }),
      )
      yield* Effect.ensuring(
        Effect.gen(function* () {
          expect(yield* Effect.promise(() => worker.call("write", { keys: KEYS, rounds: ROUNDS }))).toBe(
            "written",
          )
          // Its flusher has taken every write and applied the first half of the keys when it dies.
          for (let waited = 0; (yield* readSource(connection, source)).rows.size < KEYS / 2; waited += 20) {
            if (waited > 10_000) return yield* Effect.die(new Error("the worker never flushed"))
            yield* Effect.sleep(20)
          }
        }),
        Effect.sync(() => worker.kill()),
      )
      const atCrash = yield* observe(connection, stream, source)
      const rescuer = yield* WriteBehindStream.make({
        redis,
        keyspace: LastSeen,
        stream,
        consumer: "rescuer",
        claimIdleMillis: 500,
        flushIntervalMillis: 50,
        flush: versionedFlush(connection, source),
      })
      // Recovered when every key holds its last round's value and nothing is left unacknowledged.
      for (let waited = 0; waited <= 15_000; waited += 50) {
        const { rows, pending } = yield* observe(connection, stream, source)
        const done = rows.size === KEYS && [...rows].every(([k, v]) => v === (ROUNDS - 1) * 1_000 + k)
        if (done && pending === 0) break
        yield* Effect.sleep(50)
      }
      return { atCrash, after: yield* observe(connection, stream, source), stats: rescuer.stats() }
    }),
  )

const expectRecovered = ({ atCrash, after, stats }: Effect.Success<ReturnType<typeof crashAndRecover>>) => {
  // At the crash: all 60 writes taken by the dead process, unacknowledged; only keys 0-9 applied.
  expect(atCrash.pending).toBe(KEYS * ROUNDS)
  expect([...atCrash.rows.keys()].sort((a, b) => a - b)).toEqual(
    Array.from({ length: KEYS / 2 }, (_, k) => k),
  )
  expect(after.rows).toEqual(new Map(Array.from({ length: KEYS }, (_, k) => [k, (ROUNDS - 1) * 1_000 + k])))
  // The dead process's batch was claimed and flushed again: its writes were already applied, so they were ignored.
  expect(stats.claimed).toBeGreaterThan(0)
  expect(after.ignored).toBeGreaterThan(0)
  expect(after.pending).toBe(0)
  // The dead consumer, left with nothing pending, was removed from the group.
  expect(after.consumers).toContain("rescuer")
  expect(after.consumers).not.toContain("doomed")
}

describe("WriteBehindStream crash recovery (real processes)", () => {
  it("a process killed with pending entries loses nothing: another process claims and flushes them, replays change nothing", async () => {
    const redis = { url: server.url, commandTimeoutMillis: 5_000 }
    expectRecovered(
      await Effect.runPromise(crashAndRecover(redis, { REDIS_URL: server.url }, "wb-crash:log")),
    )
  })

  it("the same on a 3-master Cluster", async () => {
    const redis = { cluster: { nodes: cluster.startupNodes }, commandTimeoutMillis: 5_000 }
    const env = { CLUSTER_NODES: JSON.stringify(cluster.startupNodes) }
    expectRecovered(await Effect.runPromise(crashAndRecover(redis, env, "wb-crash:cluster-log")))
  })
})
