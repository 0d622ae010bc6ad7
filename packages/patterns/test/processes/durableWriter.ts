/**
 * A worker process for the crash-recovery test: it writes through a durable
 * write-behind writer whose flusher takes all the writes in one batch
 * (`maxBatch` = writes, woken by the last append), applies the first half of
 * the keys to the source and then never returns: a process dying in the
 * middle of its flush, before XACK. The test kills it with SIGKILL in that
 * state, so half of the final values were taken and never applied.
 */
import { WriteBehindStream } from "@strata/patterns/redis"
import { RedisConnection } from "@strata/redis"
import { WorkerProcess } from "@strata/testkit/servers"
import { Effect, Scope } from "effect"
import { LastSeen } from "../fixtures.ts"
import { versionedFlush } from "./source.ts"

// A Cluster's startup nodes (JSON) when CLUSTER_NODES is set, else the server at REDIS_URL.
const redis: RedisConnection.Options =
  process.env.CLUSTER_NODES === undefined
    ? { url: process.env.REDIS_URL!, commandTimeoutMillis: 5_000 }
    : { cluster: { nodes: JSON.parse(process.env.CLUSTER_NODES) }, commandTimeoutMillis: 5_000 }
const stream = process.env.STREAM!
const source = process.env.SOURCE!
const writes = Number(process.env.WRITES)
const keys = Number(process.env.KEYS)
const scope = Effect.runSync(Scope.make())

const writer = await Effect.runPromise(
  Scope.provide(
    Effect.gen(function* () {
      const connection = yield* RedisConnection.make(redis)
      const apply = versionedFlush(connection, source)
      return yield* WriteBehindStream.make({
        redis,
        keyspace: LastSeen,
        stream,
        consumer: "doomed",
        maxBatch: writes,
        flushIntervalMillis: 60_000,
        flush: (batch) => Effect.andThen(apply(batch.filter((write) => write.key < keys / 2)), Effect.never),
      })
    }),
    scope,
  ),
)

WorkerProcess.serve(async (command) => {
  if (command.op === "write") {
    // Writes `rounds` values to each of `keys` keys; the last round holds each key's final value.
    const { rounds } = command as unknown as { rounds: number }
    for (let round = 0; round < rounds; round++)
      for (let key = 0; key < keys; key++) await Effect.runPromise(writer.set(key, round * 1_000 + key))
    return "written"
  }
  return undefined
})
