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
 * @since 0.1.0
 */
import { type InvalidArgument, type InvalidKey, InvalidValue, type StoreError } from "@strata/core"
import { RedisConnection } from "@strata/redis"
import { Effect, Exit, Fiber, Latch, Metric, Option, type Scope } from "effect"
import { BufferFull, FlushIncomplete, WriteBehindClosed } from "../WriteBehindErrors.ts"
import { listeners, type WriteBehindEvent, WriteBehindMetrics } from "../WriteBehindEvent.ts"
import { groupState, OwnWrites } from "./OwnWrites.ts"
import { collapse, type Decoded, decode, encode, versionOf } from "./StreamEntry.ts"
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
   * `StoreUnavailable` / `Timeout` (a timed-out append's outcome is unknown).
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
 * `InvalidArgument` for a bad option and `StoreUnavailable` when Redis
 * cannot be reached or refuses the group.
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
      try: () => parse(options),
      catch: (error) => error as InvalidArgument,
    })
    const { keyspace, flush } = options
    const { stream, group, consumer } = config
    const writer = `${stream}/${consumer}`
    const connection = yield* RedisConnection.make(options.redis)
    const commands = define(connection.client)
    yield* connection.call("XGROUP CREATE", () => commands.strataWbEnsureGroup(stream, group))
    const events = listeners<WriteBehindEvent>()
    const attributes = { writer: stream }
    const flushedMetric = Metric.withAttributes(WriteBehindMetrics.flushedEntries, attributes)
    const failuresMetric = Metric.withAttributes(WriteBehindMetrics.flushFailures, attributes)
    const claimedMetric = Metric.withAttributes(WriteBehindMetrics.claimedEntries, attributes)
    const counts = { flushes: 0, flushedEntries: 0, failures: 0, claimed: 0, unreadable: 0 }
    const wake = Latch.makeUnsafe(false)
    let closed = false
    let appended = 0
    const ownWrites = new OwnWrites<V>(config.interval)
    let lastFailure: { entries: ReadonlyArray<string>; cause: unknown } | undefined

    const set = (key: K, value: V) =>
      Effect.gen(function* () {
        if (closed) return yield* new WriteBehindClosed({ writer })
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
        const added = yield* connection.call("XADD", () =>
          commands.strataWbAdd(stream, config.maxLength, id, bytes, group, sweep ? "1" : "0"),
        )
        if (added === null) return yield* new BufferFull({ writer, limit: config.maxLength })
        const [entryId, lastDelivered, oldestPending] = added
        if (lastDelivered !== undefined)
          ownWrites.sweep(groupState(lastDelivered, oldestPending ?? ""), Date.now())
        ownWrites.record(id, value, entryId)
        if (config.flusher && ++appended >= config.maxBatch) {
          appended = 0
          wake.openUnsafe()
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
        return Effect.map(
          connection.call("XPENDING", () => commands.strataWbPending(stream, group, write.entryId)),
          ([held, lastDelivered, oldestPending]) =>
            Option.fromUndefinedOr(
              ownWrites.settle(id, write, held === 1, groupState(lastDelivered, oldestPending)),
            ),
        )
      })

    /** Runs `effect` until it succeeds, reporting each failure and waiting a doubling delay in between. */
    const retrying = <A, E2, R2>(effect: Effect.Effect<A, E2, R2>, ids: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        for (let attempt = 0; ; attempt++) {
          const exit = yield* Effect.exit(effect)
          if (Exit.isSuccess(exit)) return exit.value
          counts.failures++
          lastFailure = { entries: ids, cause: exit.cause }
          yield* Metric.update(failuresMetric, 1)
          const retryInMillis = Math.min(config.retryMax, config.retryInitial * 2 ** Math.min(attempt, 30))
          events.emit({
            _tag: "FlushFailed",
            writer,
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
        const [next, claimedRaw, freshRaw] = yield* retrying(
          connection.call("XREADGROUP", () =>
            commands.strataWbTakeBuffer(
              stream,
              group,
              consumer,
              config.maxBatch,
              config.claimIdle,
              cursor,
              own ? "1" : "0",
            ),
          ),
          [],
        )
        cursor = next.toString()
        if (claimedRaw.length > 0) {
          counts.claimed += claimedRaw.length
          yield* Metric.update(claimedMetric, claimedRaw.length)
          events.emit({ _tag: "Claimed", writer, entries: claimedRaw.length })
        }
        const ids: Array<string> = []
        const readable: Array<Decoded<K, V>> = []
        for (const raw of [...claimedRaw, ...freshRaw]) {
          ids.push(raw[0].toString())
          const decoded = decode(keyspace, raw)
          if (typeof decoded === "string") {
            counts.unreadable++
            events.emit({ _tag: "EntryUnreadable", writer, entryId: raw[0].toString(), reason: decoded })
          } else if (decoded !== undefined) readable.push(decoded)
        }
        if (ids.length > 0) {
          const batch = collapse(readable)
          const started = Date.now()
          // Suspended: each attempt calls flush again (a flush may decide what to do when it is called).
          if (batch.length > 0)
            yield* retrying(
              Effect.suspend(() => flush(batch)),
              ids,
            )
          yield* retrying(
            connection.call("XACK", () => commands.strataWbAckAndTrim(stream, group, ...ids)),
            ids,
          )
          for (const entry of readable) ownWrites.forget(entry.id, entry.entryId)
          lastFailure = undefined
          counts.flushes++
          counts.flushedEntries += readable.length
          yield* Metric.update(flushedMetric, readable.length)
          events.emit({
            _tag: "Flushed",
            writer,
            entries: batch.length,
            writes: readable.length,
            millis: Date.now() - started,
          })
        }
        return (
          claimedRaw.length >= config.maxBatch ||
          freshRaw.length >= config.maxBatch ||
          (own && ids.length > 0)
        )
      })

    const loop = Effect.gen(function* () {
      let own = true
      while (true) {
        const more = yield* step(own)
        own = false
        if (more) continue
        if (closed) return
        yield* Effect.raceFirst(Effect.sleep(config.interval), wake.await)
        wake.closeUnsafe()
      }
    })
    const fiber = config.flusher ? yield* Effect.forkScoped(loop) : undefined

    const close = Effect.gen(function* () {
      closed = true
      wake.openUnsafe()
      if (fiber === undefined) return
      const ended = yield* Effect.timeoutOption(Fiber.await(fiber), config.closeTimeout)
      if (Option.isNone(ended)) yield* Fiber.interrupt(fiber)
      if (Option.isNone(ended) && lastFailure !== undefined)
        return yield* new FlushIncomplete({
          writer,
          remaining: lastFailure.entries.length,
          entries: lastFailure.entries,
          cause: lastFailure.cause,
        })
    })
    yield* Effect.addFinalizer(() =>
      close.pipe(
        Effect.catchTag("FlushIncomplete", (error) =>
          Effect.gen(function* () {
            events.emit({ _tag: "Abandoned", writer, entries: error.remaining, cause: error.cause })
            yield* Effect.logWarning(`${error.message}; they stay in the stream for another flusher`)
          }),
        ),
      ),
    )

    return {
      name: writer,
      stream,
      consumer,
      set,
      get,
      stats: () => ({ pending: ownWrites.size, ...counts }),
      onEvent: events.add,
      close,
    } satisfies WriteBehindStream<K, V>
  })
