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
 * @since 0.1.0
 */
import { hostname } from "node:os"
import {
  Argument,
  InvalidArgument,
  type InvalidKey,
  InvalidValue,
  type Keyspace,
  type StoreError,
} from "@strata/core"
import { RedisConnection } from "@strata/redis"
import { Effect, Exit, Fiber, Latch, Metric, Option, type Scope } from "effect"
import { BufferFull, FlushIncomplete, WriteBehindClosed } from "../WriteBehindErrors.ts"
import { listeners, type WriteBehindEvent, WriteBehindMetrics } from "../WriteBehindEvent.ts"
import { collapse, type Decoded, decode, encode, type StreamWrite, versionOf } from "./StreamEntry.ts"
import { define } from "./WriteBehindStreamScripts.ts"

export { type StreamWrite, versionOf } from "./StreamEntry.ts"

/** The options of {@link make}. Every number is checked when the writer is made. */
export interface Options<K, V, E, R> {
  /** Where the stream lives: `RedisConnection` options (`url`, `redis` or `cluster`, timeouts). */
  readonly redis: RedisConnection.Options
  /** An entry keyspace (`Keyspace.make`): keys and values are validated and encoded by its schemas. */
  readonly keyspace: Keyspace.Keyspace<K, V>
  /** Writes a batch to the source, idempotently and by version (see the module docs). It may fail: the batch is retried. */
  readonly flush: (batch: ReadonlyArray<StreamWrite<K, V>>) => Effect.Effect<void, E, R>
  /** The stream's key. Default `strata:wb:<keyspace id>`. */
  readonly stream?: string | undefined
  /** The consumer group of the flushers. Default `"strata"`. */
  readonly group?: string | undefined
  /** This process's consumer name, unique per live process. Default `<hostname>-<pid>-<random>`. */
  readonly consumer?: string | undefined
  /** Whether this process flushes (`true`, default) or only appends. */
  readonly flusher?: boolean | undefined
  /** Most entries taken per read (claimed and new each), 1 to 1,000; default 100. */
  readonly maxBatch?: number | undefined
  /** How often a flusher polls the stream, in ms; ≥ 1, default 1,000. */
  readonly flushIntervalMillis?: number | undefined
  /** How long an entry stays unacknowledged by its consumer before another claims it, in ms; default 30,000. Keep it above your slowest flush. */
  readonly claimIdleMillis?: number | undefined
  /** Most entries in the stream (unflushed, in flight, not yet trimmed); ≥ 1, default 100,000. */
  readonly maxLength?: number | undefined
  /** First retry delay after a failure, in ms, doubled up to `retryMaxMillis`; defaults 100 and 10,000. */
  readonly retryInitialMillis?: number | undefined
  readonly retryMaxMillis?: number | undefined
  /** How long `close()` keeps flushing, in ms; default 5,000. What is left stays in the stream for other flushers. */
  readonly closeTimeoutMillis?: number | undefined
}

/** What a durable writer did since it started. */
export interface Stats {
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

/** A durable write-behind writer. */
export interface WriteBehindStream<K, V> {
  readonly name: string
  readonly stream: string
  readonly consumer: string
  /**
   * Appends the write to the stream and returns its version. Fails with
   * `InvalidKey` or `InvalidValue` (nothing written), `BufferFull` (the
   * stream holds `maxLength` entries), `WriteBehindClosed`, or the store's
   * `StoreUnavailable` / `Timeout` (a timed-out append's outcome is unknown).
   */
  readonly set: (
    key: NoInfer<K>,
    value: NoInfer<V>,
  ) => Effect.Effect<string, InvalidKey | InvalidValue | BufferFull | WriteBehindClosed | StoreError>
  readonly stats: () => Stats
  readonly onEvent: (listener: (event: WriteBehindEvent) => void) => () => void
  /**
   * Refuses new writes, flushes what this consumer can take within
   * `closeTimeoutMillis`, and stops. Fails with `FlushIncomplete` when its
   * last batch could not be flushed: those entries stay in the stream and
   * another flusher claims them after `claimIdleMillis`.
   */
  readonly close: Effect.Effect<void, FlushIncomplete>
}

const parse = <K, V, E, R>(options: Options<K, V, E, R>) => {
  if (typeof options?.flush !== "function")
    throw new InvalidArgument({ argument: "flush", message: "write-behind needs a flush(batch) function" })
  if (options.keyspace?.kind !== "entry")
    throw new InvalidArgument({
      argument: "keyspace",
      message: "the durable writer takes an entry keyspace (counters would be summed again on a replay)",
    })
  const retryInitial = Argument.optionalMillis("retryInitialMillis", options.retryInitialMillis, 100)
  return {
    stream: options.stream ?? `strata:wb:${options.keyspace.id}`,
    group: options.group ?? "strata",
    consumer: options.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    flusher: options.flusher ?? true,
    maxBatch: Argument.optionalInteger("maxBatch", options.maxBatch, 100, { min: 1, max: 1_000 }),
    interval: Argument.optionalMillis("flushIntervalMillis", options.flushIntervalMillis, 1_000),
    claimIdle: Argument.optionalMillis("claimIdleMillis", options.claimIdleMillis, 30_000),
    maxLength: Argument.optionalInteger("maxLength", options.maxLength, 100_000, { min: 1 }),
    retryInitial,
    retryMax: Math.max(
      retryInitial,
      Argument.optionalMillis("retryMaxMillis", options.retryMaxMillis, 10_000),
    ),
    closeTimeout: Argument.optionalMillis("closeTimeoutMillis", options.closeTimeoutMillis, 5_000),
  }
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
        const entryId = yield* connection.call("XADD", () =>
          commands.strataWbAdd(stream, config.maxLength, id, bytes),
        )
        if (entryId === null) return yield* new BufferFull({ writer, limit: config.maxLength })
        if (config.flusher && ++appended >= config.maxBatch) {
          appended = 0
          wake.openUnsafe()
        }
        return versionOf(entryId)
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
      stats: () => ({ ...counts }),
      onEvent: events.add,
      close,
    } satisfies WriteBehindStream<K, V>
  })
