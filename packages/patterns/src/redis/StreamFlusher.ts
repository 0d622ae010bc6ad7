/**
 * The flusher of a durable write-behind writer: the loop that takes
 * batches from the consumer group (entries other consumers left idle for
 * `claimIdleMillis` first, then new ones), calls the user's `flush`, and
 * acknowledges only after it succeeded, retrying each step with a doubling
 * delay and reporting every failure. It runs in the process that made the
 * writer with `flusher: true`; `WriteBehindStream.make` starts it.
 *
 * @since 0.1.0
 */
import type { Keyspace } from "@strata/core"
import type { RedisConnection } from "@strata/redis"
import { Effect, Exit, type Latch, Metric } from "effect"
import type { WriteBehindEvent } from "../WriteBehindEvent.ts"
import { WriteBehindMetrics } from "../WriteBehindEvent.ts"
import type { OwnWrites } from "./OwnWrites.ts"
import { collapse, type Decoded, decode, type StreamWrite } from "./StreamEntry.ts"
import type { Config } from "./WriteBehindStreamOptions.ts"
import type { StreamCommands } from "./WriteBehindStreamScripts.ts"

/** What a writer counts, shared by its write path and its flusher. */
export interface Counts {
  flushes: number
  flushedEntries: number
  failures: number
  claimed: number
  unreadable: number
  groupsRecreated: number
}

/** The writer's parts the flusher works with. */
export interface Writer<K, V, E, R> {
  readonly name: string
  readonly config: Config<K, V>
  readonly keyspace: Keyspace.Keyspace<K, V>
  readonly flush: (batch: ReadonlyArray<StreamWrite<K, V>>) => Effect.Effect<void, E, R>
  readonly connection: RedisConnection.Connection
  readonly commands: StreamCommands
  readonly ownWrites: OwnWrites<V>
  readonly counts: Counts
  readonly emit: (event: WriteBehindEvent) => void
  /** Reports that `operation` found the group missing and recreated it. */
  readonly recreated: (operation: string) => Effect.Effect<void>
  /** Opened by a write when a batch is ready, and by `close`. */
  readonly wake: Latch.Latch
  readonly isClosed: () => boolean
  /** The last failed step and its batch's entry ids, cleared by a flush; `close` reports it. */
  lastFailure: { entries: ReadonlyArray<string>; cause: unknown } | undefined
}

/** The flush loop of `writer`: runs until the writer is closed and nothing is left to take. */
export const run = <K, V, E, R>(writer: Writer<K, V, E, R>): Effect.Effect<void, never, R> => {
  const { config, connection, commands, counts, emit } = writer
  const { stream, group, consumer, maxBatch } = config
  const attributes = { writer: stream }
  const flushedMetric = Metric.withAttributes(WriteBehindMetrics.flushedEntries, attributes)
  const failuresMetric = Metric.withAttributes(WriteBehindMetrics.flushFailures, attributes)
  const claimedMetric = Metric.withAttributes(WriteBehindMetrics.claimedEntries, attributes)

  /** Runs `effect` until it succeeds, reporting each failure and waiting a doubling delay in between. */
  const retrying = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>, ids: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      for (let attempt = 0; ; attempt++) {
        const exit = yield* Effect.exit(effect)
        if (Exit.isSuccess(exit)) return exit.value
        counts.failures++
        writer.lastFailure = { entries: ids, cause: exit.cause }
        yield* Metric.update(failuresMetric, 1)
        const retryInMillis = Math.min(config.retryMax, config.retryInitial * 2 ** Math.min(attempt, 30))
        emit({
          _tag: "FlushFailed",
          writer: writer.name,
          entries: ids.length,
          attempt: attempt + 1,
          retryInMillis,
          cause: exit.cause,
        })
        yield* Effect.sleep(retryInMillis)
      }
    })

  let cursor = "0-0"
  /** Takes, flushes and acknowledges one batch; returns whether a read came back full (more is waiting). */
  const step = (own: boolean) =>
    Effect.gen(function* () {
      const [next, claimedRaw, freshRaw, created] = yield* retrying(
        connection.call("XREADGROUP", () =>
          commands.strataWbTakeBuffer(
            stream,
            group,
            consumer,
            maxBatch,
            config.claimIdle,
            cursor,
            own ? "1" : "0",
          ),
        ),
        [],
      )
      if (created === 1) yield* writer.recreated("XREADGROUP")
      cursor = next.toString()
      if (claimedRaw.length > 0) {
        counts.claimed += claimedRaw.length
        yield* Metric.update(claimedMetric, claimedRaw.length)
        emit({ _tag: "Claimed", writer: writer.name, entries: claimedRaw.length })
      }
      const ids: Array<string> = []
      const readable: Array<Decoded<K, V>> = []
      for (const raw of [...claimedRaw, ...freshRaw]) {
        ids.push(raw[0].toString())
        const decoded = decode(writer.keyspace, raw)
        if (typeof decoded === "string") {
          counts.unreadable++
          emit({ _tag: "EntryUnreadable", writer: writer.name, entryId: raw[0].toString(), reason: decoded })
        } else if (decoded !== undefined) readable.push(decoded)
      }
      if (ids.length > 0) {
        const batch = collapse(readable)
        const started = Date.now()
        // Suspended: each attempt calls flush again (a flush may decide what to do when it is called).
        if (batch.length > 0)
          yield* retrying(
            Effect.suspend(() => writer.flush(batch)),
            ids,
          )
        const [, ackCreated] = yield* retrying(
          connection.call("XACK", () => commands.strataWbAckAndTrim(stream, group, ...ids)),
          ids,
        )
        if (ackCreated === 1) yield* writer.recreated("XACK")
        for (const entry of readable) writer.ownWrites.forget(entry.id, entry.entryId)
        writer.lastFailure = undefined
        counts.flushes++
        counts.flushedEntries += readable.length
        yield* Metric.update(flushedMetric, readable.length)
        emit({
          _tag: "Flushed",
          writer: writer.name,
          entries: batch.length,
          writes: readable.length,
          millis: Date.now() - started,
        })
      }
      return claimedRaw.length >= maxBatch || freshRaw.length >= maxBatch || (own && ids.length > 0)
    })

  return Effect.gen(function* () {
    // First its own unacknowledged entries (a restart under the same consumer name), then the group's.
    let own = true
    while (true) {
      const more = yield* step(own)
      own = false
      if (more) continue
      if (writer.isClosed()) return
      yield* Effect.raceFirst(Effect.sleep(config.interval), writer.wake.await)
      writer.wake.closeUnsafe()
    }
  })
}
