import { WriteBehindStream } from "@strata/patterns/redis"
import { RedisConnection } from "@strata/redis"
import { RedisHarness, WorkerProcess } from "@strata/testkit/servers"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LastSeen } from "../fixtures.ts"
import { readSource, versionedFlush } from "../processes/source.ts"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

const KEYS = 20
const ROUNDS = 3
const SOURCE = "wb-crash:source"

/** The source's rows now, read with a short-lived connection. */
const sourceNow = () =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(RedisConnection.make({ url: server.url, commandTimeoutMillis: 5_000 }), (connection) =>
        readSource(connection, SOURCE),
      ),
    ),
  )

describe("WriteBehindStream crash recovery (real processes)", () => {
  it("a process killed with pending entries loses nothing: another process claims and flushes them, replays change nothing", async () => {
    const stream = "wb-crash:log"
    const source = SOURCE
    const worker = await WorkerProcess.start(new URL("../processes/durableWriter.ts", import.meta.url), {
      REDIS_URL: server.url,
      STREAM: stream,
      SOURCE: source,
      KEYS: String(KEYS),
      WRITES: String(KEYS * ROUNDS),
    })
    try {
      expect(await worker.call("write", { keys: KEYS, rounds: ROUNDS })).toBe("written")
      // Its flusher has taken every write and applied the first half of the keys when it dies.
      const deadline = Date.now() + 10_000
      while ((await sourceNow()).rows.size < KEYS / 2) {
        if (Date.now() > deadline) throw new Error("the worker never flushed")
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    } finally {
      worker.kill()
    }
    const pendingAtCrash = await RedisHarness.command(server.port, ["XPENDING", stream, "strata"])
    const atCrash = await sourceNow()
    const result = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const connection = yield* RedisConnection.make({ url: server.url, commandTimeoutMillis: 5_000 })
          const rescuer = yield* WriteBehindStream.make({
            redis: { url: server.url, commandTimeoutMillis: 5_000 },
            keyspace: LastSeen,
            stream,
            consumer: "rescuer",
            claimIdleMillis: 500,
            flushIntervalMillis: 50,
            flush: versionedFlush(connection, source),
          })
          // Recovered when every key holds its last round's value and nothing is left unacknowledged.
          for (let waited = 0; ; waited += 50) {
            const { rows } = yield* readSource(connection, source)
            const pending = yield* Effect.promise(() =>
              RedisHarness.command(server.port, ["XPENDING", stream, "strata"]),
            )
            const done = rows.size === KEYS && [...rows].every(([k, v]) => v === (ROUNDS - 1) * 1_000 + k)
            if (done && pending.startsWith("*4\r\n:0")) break
            if (waited > 15_000) break
            yield* Effect.sleep(50)
          }
          return { ...(yield* readSource(connection, source)), stats: rescuer.stats() }
        }),
      ),
    )
    // At the crash: all 60 writes taken by the dead process, unacknowledged; only keys 0-9 applied.
    expect(pendingAtCrash).toMatch(new RegExp(`^\\*4\\r\\n:${KEYS * ROUNDS}\\r`))
    expect([...atCrash.rows.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: KEYS / 2 }, (_, k) => k),
    )
    expect(result.rows).toEqual(
      new Map(Array.from({ length: KEYS }, (_, k) => [k, (ROUNDS - 1) * 1_000 + k])),
    )
    // The dead process's batch was claimed and flushed again: its writes were already applied, so they were ignored.
    expect(result.stats.claimed).toBeGreaterThan(0)
    expect(result.ignored).toBeGreaterThan(0)
    expect(await RedisHarness.command(server.port, ["XPENDING", stream, "strata"])).toMatch(/^\*4\r\n:0/)
    // The dead consumer, left with nothing pending, was removed from the group.
    const consumers = await RedisHarness.command(server.port, ["XINFO", "CONSUMERS", stream, "strata"])
    expect(consumers).toContain("rescuer")
    expect(consumers).not.toContain("doomed")
  })
})
