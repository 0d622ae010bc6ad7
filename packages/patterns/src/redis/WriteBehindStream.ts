/**
 * Durable write-behind on a Redis Stream: each write is appended to a
 * stream (`XADD`) before `set` returns, so it survives the process; flushers
 * in any process read it through one consumer group (`XREADGROUP`: each
 * entry goes to one consumer), call the user's `flush(batch)`, and
 * acknowledge (`XACK`) only after it succeeded. Entries a crashed process
 * had taken and never acknowledged are claimed by another flusher once they
 * have been idle for `claimIdleMillis` (`XAUTOCLAIM`) and flushed there.
 *
 * Delivery is **at least once**: a process that dies between its flush and
 * its acknowledgement has its batch flushed again elsewhere, and a claimed
 * older write can reach the source after a newer one. The flush must
 * therefore be **idempotent and ordered by version**: every write carries
 * `version` (its stream id in sortable form, increasing with each write to
 * the stream); apply a write only when its version is above the version the
 * source stored for that key (`UPDATE ... WHERE version < $version`), and a
 * replay or an older write changes nothing.
 *
 * The stream stays bounded: after each acknowledgement it is trimmed below
 * the oldest entry the group still needs (`XTRIM MINID`, never past an
 * unacknowledged or undelivered entry), and `set` fails with `BufferFull`
 * once `maxLength` entries are in play. A Cluster is fine: the log is one
 * key, so one slot. Only entry keyspaces: counters need exactly-once
 * increments, which a replayed sum cannot give.
 *
 * The writer reads its own pending writes (`get`): the last value written
 * through it for a key, while that write is not acknowledged by a flush
 * (whichever process flushes it); see `OwnWrites.ts` for how it learns
 * that another process flushed it.
 *
 * When the stream key disappears (Redis restarted without persistence,
 * FLUSHALL, an operator's DEL) or the group is destroyed, the next script
 * that needs the group (the flusher's read, `get`'s check, an append to a
 * stream found gone) recreates it at the stream's start, reports a
 * `GroupRecreated` event, and the writer goes on. Writes lost with the stream are gone: a Redis without
 * persistence keeps nothing over a restart.
 *
 * @since 0.1.0
 */
import { type InvalidArgument, type InvalidKey, InvalidValue, type StoreError } from "@strata/core"
import { RedisConnection } from "@strata/redis"
import { Effect, Fiber, Latch, Metric, Option, type Scope } from "effect"
import { BufferFull, FlushIncomplete, WriteBehindClosed } from "../WriteBehindErrors.ts"
import { listeners, type WriteBehindEvent, WriteBehindMetrics } from "../WriteBehindEvent.ts"
import { groupState, OwnWrites } from "./OwnWrites.ts"
import { encode, versionOf } from "./StreamEntry.ts"
import * as StreamFlusher from "./StreamFlusher.ts"
import { type Options, parse } from "./WriteBehindStreamOptions.ts"
import { define } from "./WriteBehindStreamScripts.ts"

export { type StreamWrite, versionOf } from "./StreamEntry.ts"
export type { Options } from "./WriteBehindStreamOptions.ts"

/** What a durable writer did since it started, and what its `get` holds now. */
export interface Stats {
  /** Keys whose last write through this writer is not yet seen flushed: what `get` answers from. */
  readonly pending: number
  /** Batches this process flushed and acknowledged. */
  readonly flushes: number
  /** Stream entries flushed and acknowledged by this process. */
  readonly flushedEntries: number
  /** Failed attempts (flushes, reads, acknowledgements), each retried. */
  readonly failures: number
  /** Entries claimed from idle consumers. */
  readonly claimed: number
  /** Unreadable entries acknowledged without a flush. */
  readonly unreadable: number
  /** Times this writer found its consumer group missing and recreated it (`GroupRecreated` events). */
  readonly groupsRecreated: number
}

/** A durable write-behind writer. Methods fail with typed errors and never throw. */
export interface WriteBehindStream<K, V> {
  /** `<stream>/<consumer>`: names this writer in events and errors. */
  readonly name: string
  /** The stream's key. */
  readonly stream: string
  /** This process's consumer name in the group. */
  readonly consumer: string
  /**
   * Appends the write to the stream and returns its version. Fails with
   * `InvalidKey` or `InvalidValue` (nothing written), `BufferFull` (the
   * stream holds `maxLength` entries), `WriteBehindClosed`, or the store's
   * `StoreUnavailable` (`rejected`: nothing written) / `Timeout` (a
   * timed-out append's outcome is unknown). A stream found gone has its
   * group recreated before the append, in the same script.
   * The value is kept by reference for `get` until its flush is seen: do
   * not mutate it.
   */
  readonly set: (
    key: NoInfer<K>,
    value: NoInfer<V>,
  ) => Effect.Effect<string, InvalidKey | InvalidValue | BufferFull | WriteBehindClosed | StoreError>
  /**
   * What this writer wrote to `key` and no flush has acknowledged yet
   * (whichever process's flusher took it): the last value written through
   * it (the last write wins); `None` when nothing of this writer is pending
   * (read the source then). Costs one Redis round trip when this writer
   * holds a write of the key (to check it is still unacknowledged), none
   * otherwise. Other writers' writes, and a `set` that failed or timed out,
   * are not seen. Fails with `InvalidKey`, or the store's `StoreUnavailable`
   * / `Timeout` when the check cannot reach Redis.
   */
  readonly get: (key: NoInfer<K>) => Effect.Effect<Option.Option<V>, InvalidKey | StoreError>
  /** A snapshot of the counters. */
  readonly stats: () => Stats
  /** Registers a listener for events; returns the function that removes it. */
  readonly onEvent: (listener: (event: WriteBehindEvent) => void) => () => void
  /**
   * Refuses new writes, flushes what this consumer can take within
   * `closeTimeoutMillis`, and stops. Fails with `FlushIncomplete` when its
   * last batch could not be flushed: those entries stay in the stream and
   * another flusher claims them after `claimIdleMillis`.
   */
  readonly close: Effect.Effect<void, FlushIncomplete>
}

/**
 * Connects, creates the consumer group if needed (at the stream's start, so
 * entries written before any flusher ran are flushed too), and, unless
 * `flusher: false`, starts flushing in the current scope. Fails with
 * `InvalidArgument` naming the option, before connecting, for a bad option
 * (an unknown name, a missing `flush` or `redis`, an empty `stream`, a bad
 * number), and `StoreUnavailable` when Redis cannot be reached or refuses
 * the group.
 *
 * @example
 * ```ts
 * const writer = yield* WriteBehindStream.make({
 *   redis: { url: process.env.REDIS_URL },
 *   keyspace: LastSeen,
 *   // Idempotent and ordered: a replayed or older write changes nothing.
 *   flush: (batch) => db.upsertIfNewer(batch.map((w) => [w.key, w.value, w.version])),
 * })
 * yield* writer.set(userId, Date.now())
 * ```
 */
export const make = <K, V, E, R>(
  options: Options<K, V, E, R>,
): Effect.Effect<WriteBehindStream<K, V>, InvalidArgument | StoreError, R | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* Effect.try({
      try: () => parse<K, V>(options),
      catch: (error) => error as InvalidArgument,
    })
    const { keyspace, stream, group, consumer } = config
    const name = `${stream}/${consumer}`
    const connection = yield* RedisConnection.make(config.redis)
    const commands = define(connection.client)
    yield* connection.call("XGROUP CREATE", () => commands.strataWbEnsureGroup(stream, group))
    const events = listeners<WriteBehindEvent>()
    const recreationsMetric = Metric.withAttributes(WriteBehindMetrics.groupRecreations, { writer: stream })
    const ownWrites = new OwnWrites<V>(config.interval)
    let closed = false
    const writer: StreamFlusher.Writer<K, V, E, R> = {
      name,
      config,
      keyspace,
      flush: options.flush,
      connection,
      commands,
      ownWrites,
      counts: { flushes: 0, flushedEntries: 0, failures: 0, claimed: 0, unreadable: 0, groupsRecreated: 0 },
      emit: events.emit,
      // The stream was lost or the group destroyed: say so, and have the next write drop lost writes.
      recreated: (operation) =>
        Effect.suspend(() => {
          writer.counts.groupsRecreated++
          ownWrites.sweepSoon()
          events.emit({ _tag: "GroupRecreated", writer: name, group, operation })
          return Metric.update(recreationsMetric, 1)
        }),
      wake: Latch.makeUnsafe(false),
      isClosed: () => closed,
      lastFailure: undefined,
    }
    let appended = 0

    const set = (key: K, value: V) =>
      Effect.gen(function* () {
        if (closed) return yield* new WriteBehindClosed({ writer: name })
        const id = yield* Effect.try({
          try: () => keyspace.storeKey(key),
          catch: (error) => error as InvalidKey,
        })
        const bytes = yield* Effect.try({
          try: () => encode(keyspace, key, value),
          catch: (error) =>
            new InvalidValue({
              keyspace: keyspace.id,
              message: `nothing was written: ${(error as Error).message}`,
            }),
        })
        // At most once per interval, the append also reads the group's state, to drop what was flushed elsewhere.
        const sweep = ownWrites.sweepDue(Date.now())
        const [entryId, created, lastDelivered, oldestPending, firstEntry] = yield* connection.call(
          "XADD",
          () => commands.strataWbAdd(stream, config.maxLength, id, bytes, group, sweep ? "1" : "0"),
        )
        if (created === 1) yield* writer.recreated("XADD")
        if (lastDelivered !== undefined)
          ownWrites.sweep(groupState(lastDelivered, oldestPending ?? "", firstEntry ?? ""), Date.now())
        if (entryId === "") return yield* new BufferFull({ writer: name, limit: config.maxLength })
        ownWrites.record(id, value, entryId)
        if (config.flusher && ++appended >= config.maxBatch) {
          appended = 0
          writer.wake.openUnsafe()
        }
        return versionOf(entryId)
      })

    const get = (key: K) =>
      Effect.suspend((): Effect.Effect<Option.Option<V>, InvalidKey | StoreError> => {
        let id: string
        try {
          id = keyspace.storeKey(key)
        } catch (error) {
          return Effect.fail(error as InvalidKey)
        }
        const write = ownWrites.find(id)
        // Nothing recorded: never written here, or seen flushed already (a write is dropped only then).
        if (write === undefined) return Effect.succeedNone
        return connection
          .call("XPENDING", () => commands.strataWbPending(stream, group, write.entryId))
          .pipe(
            Effect.flatMap(([held, created, lastDelivered, oldestPending, firstEntry]) => {
              const state = groupState(lastDelivered, oldestPending, firstEntry)
              const answer = Option.fromUndefinedOr(ownWrites.settle(id, write, held === 1, state))
              if (created === 0) return Effect.succeed(answer)
              // Recreated: every write held may have been lost with the stream; drop those now.
              ownWrites.sweep(state, Date.now())
              return Effect.as(writer.recreated("XPENDING"), answer)
            }),
          )
      })

    const fiber = config.flusher ? yield* Effect.forkScoped(StreamFlusher.run(writer)) : undefined

    const close = Effect.gen(function* () {
      closed = true
      writer.wake.openUnsafe()
      if (fiber === undefined) return
      const ended = yield* Effect.timeoutOption(Fiber.await(fiber), config.closeTimeout)
      if (Option.isNone(ended)) yield* Fiber.interrupt(fiber)
      const failure = writer.lastFailure
      if (Option.isNone(ended) && failure !== undefined)
        return yield* new FlushIncomplete({
          writer: name,
          remaining: failure.entries.length,
          entries: failure.entries,
          cause: failure.cause,
        })
    })
    yield* Effect.addFinalizer(() =>
      close.pipe(
        Effect.catchTag("FlushIncomplete", (error) =>
          Effect.gen(function* () {
            events.emit({ _tag: "Abandoned", writer: name, entries: error.remaining, cause: error.cause })
            yield* Effect.logWarning(`${error.message}; they stay in the stream for another flusher`)
          }),
        ),
      ),
    )

    return {
      name,
      stream,
      consumer,
      set,
      get,
      stats: () => ({ pending: ownWrites.size, ...writer.counts }),
      onEvent: events.add,
      close,
    } satisfies WriteBehindStream<K, V>
  })
