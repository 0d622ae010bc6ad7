/**
 * Write-behind, in process: writes and counters are buffered here and
 * written to the source (the user's `flush(batch)`) later, in batches, by
 * size or by time. For data whose every write need not reach the database
 * at once: view counts, last-seen times, progress markers.
 *
 * Rules: the last write to a key within a batch wins; counters merge by sum;
 * the writer reads its own pending writes (`get`); a failed flush keeps its
 * entries and retries with exponential backoff, reporting each failure as a
 * `FlushFailed` event and metric; a full buffer refuses new keys with
 * `BufferFull` (no hidden waiting); `close()` drains or fails with
 * `FlushIncomplete` carrying what is left. What is buffered lives in this
 * process only: a crash loses it (use the durable writer of
 * `@strata/patterns/redis` when that matters).
 *
 * @since 0.1.0
 */
import { Argument, InvalidArgument, type InvalidKey, InvalidValue, type Keyspace } from "@strata/core"
import { Effect, Exit, Fiber, Latch, Metric, Option, Schema, type Scope } from "effect"
import { Buffer, type PendingWrite } from "./WriteBehindBuffer.ts"
import { BufferFull, FlushIncomplete, WriteBehindClosed } from "./WriteBehindErrors.ts"
import { listeners, type WriteBehindEvent, WriteBehindMetrics } from "./WriteBehindEvent.ts"

export type { PendingWrite } from "./WriteBehindBuffer.ts"

/** The options of {@link make}. Every number is checked when the writer is made. */
export interface Options<K, V, E, R> {
  /** The keyspace of the keys and values: keys are validated and identified by its key encoding, values by its schema. A `Keyspace.counter` makes a counter writer (`increment`). */
  readonly keyspace: Keyspace.Keyspace<K, V>
  /**
   * Writes a batch to the source. It may fail (typed error, defect or throw):
   * the batch is kept and retried, so it must accept a batch again (an
   * upsert of the values; for counters, see the docs on exactly-once).
   */
  readonly flush: (batch: ReadonlyArray<PendingWrite<K, V>>) => Effect.Effect<void, E, R>
  /** A name for events and metrics. Default: the keyspace's id. */
  readonly name?: string | undefined
  /** Most keys in one flush call, and the pending count that starts a flush early; ≥ 1, default 100. */
  readonly maxBatch?: number | undefined
  /** Longest a write waits before a flush starts, in ms; ≥ 1, default 1,000. */
  readonly flushIntervalMillis?: number | undefined
  /** Most distinct keys buffered (pending and in flight); ≥ 1, default 10,000. Past it, new keys fail with `BufferFull`. */
  readonly maxPending?: number | undefined
  /** Delay before the first retry of a failed flush, in ms, doubled on each failure in a row; ≥ 1, default 100. */
  readonly retryInitialMillis?: number | undefined
  /** Longest delay between retries, in ms; ≥ `retryInitialMillis`, default 10,000. */
  readonly retryMaxMillis?: number | undefined
  /** How long `close()` (and the scope's close) keeps flushing before giving up, in ms; ≥ 1, default 5,000. */
  readonly closeTimeoutMillis?: number | undefined
}

/** What a writer did since it started, and what it holds now. */
export interface Stats {
  /** Keys waiting for a flush. */
  readonly pending: number
  /** Keys in the flush running now. */
  readonly inFlight: number
  /** Flush calls that succeeded. */
  readonly flushes: number
  /** Entries (keys) those flushes wrote. */
  readonly flushedEntries: number
  /** Flush calls that failed (and were retried). */
  readonly failures: number
}

/** A write-behind writer. Methods fail with typed errors and never throw. */
export interface WriteBehind<K, V> {
  readonly name: string
  /**
   * Buffers `value` as the new value of `key` (entry keyspaces). Fails with
   * `InvalidKey` or `InvalidValue` (nothing buffered), `BufferFull`,
   * `WriteBehindClosed`, and `InvalidArgument` on a counter keyspace. The
   * value is kept by reference until flushed: do not mutate it.
   */
  readonly set: (
    key: NoInfer<K>,
    value: NoInfer<V>,
  ) => Effect.Effect<void, InvalidKey | InvalidValue | InvalidArgument | BufferFull | WriteBehindClosed>
  /**
   * Adds `by` (a safe integer, default 1) to the pending count of `key`
   * (counter keyspaces) and returns the pending sum not yet flushed. Fails
   * with `InvalidArgument` for a bad `by` or an entry keyspace, and like `set`.
   */
  readonly increment: (
    key: NoInfer<K>,
    by?: number,
  ) => Effect.Effect<number, InvalidKey | InvalidArgument | BufferFull | WriteBehindClosed>
  /**
   * What this process buffered for `key` and has not flushed yet: the last
   * value set, or the pending sum of a counter; `None` when nothing is
   * pending (read the source then).
   */
  readonly get: (key: NoInfer<K>) => Effect.Effect<Option.Option<V>, InvalidKey>
  /** A snapshot of the counters. */
  readonly stats: () => Stats
  /** Registers a listener for events; returns the function that removes it. */
  readonly onEvent: (listener: (event: WriteBehindEvent) => void) => () => void
  /**
   * Refuses new writes, flushes everything buffered (retrying failures until
   * `closeTimeoutMillis`) and stops. Fails with `FlushIncomplete` listing
   * the entries that could not be flushed. Calling it again waits for the
   * same end.
   */
  readonly close: Effect.Effect<void, FlushIncomplete>
}

const parse = <K, V, E, R>(options: Options<K, V, E, R>) => {
  if (typeof options?.flush !== "function")
    throw new InvalidArgument({ argument: "flush", message: "write-behind needs a flush(batch) function" })
  const retryInitial = Argument.optionalMillis("retryInitialMillis", options.retryInitialMillis, 100)
  const retryMax = Argument.optionalMillis(
    "retryMaxMillis",
    options.retryMaxMillis,
    Math.max(10_000, retryInitial),
  )
  if (retryMax < retryInitial)
    throw new InvalidArgument({
      argument: "retryMaxMillis",
      message: `retryMaxMillis (${retryMax}) must be at least retryInitialMillis (${retryInitial})`,
    })
  return {
    name: options.name ?? options.keyspace.id,
    maxBatch: Argument.optionalInteger("maxBatch", options.maxBatch, 100, { min: 1 }),
    interval: Argument.optionalMillis("flushIntervalMillis", options.flushIntervalMillis, 1_000),
    maxPending: Argument.optionalInteger("maxPending", options.maxPending, 10_000, { min: 1 }),
    retryInitial,
    retryMax,
    closeTimeout: Argument.optionalMillis("closeTimeoutMillis", options.closeTimeoutMillis, 5_000),
  }
}

/**
 * Makes a writer whose flush loop runs in the current scope. Closing the
 * scope without `close()` still drains it (up to `closeTimeoutMillis`);
 * what it cannot flush is reported as an `Abandoned` event and logged.
 * Fails with `InvalidArgument` for a bad option (a batch size of 0, a
 * negative or `NaN` interval, a missing `flush`).
 *
 * @example
 * ```ts
 * const views = yield* WriteBehind.make({
 *   keyspace: PageViews, // Keyspace.counter({ name: "page.views", key: Schema.String, ttl: "1 day" })
 *   flush: (batch) => db.addViews(batch.map(({ key, value }) => [key, value])),
 *   maxBatch: 500,
 *   flushIntervalMillis: 2_000,
 * })
 * yield* views.increment("/home")
 * ```
 */
export const make = <K, V, E, R>(
  options: Options<K, V, E, R>,
): Effect.Effect<WriteBehind<K, V>, InvalidArgument, R | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* Effect.try({
      try: () => parse(options),
      catch: (error) => error as InvalidArgument,
    })
    const { keyspace, flush } = options
    const writer = config.name
    const isCounter = keyspace.kind === "counter"
    const buffer = new Buffer<K, V>(isCounter ? "sum" : "last")
    const isValue = Schema.is(keyspace.valueSchema as Schema.Codec<V, unknown>)
    const events = listeners<WriteBehindEvent>()
    const attributes = { writer }
    const flushedMetric = Metric.withAttributes(WriteBehindMetrics.flushedEntries, attributes)
    const failuresMetric = Metric.withAttributes(WriteBehindMetrics.flushFailures, attributes)
    const counts = { flushes: 0, flushedEntries: 0, failures: 0 }
    const wake = Latch.makeUnsafe(false)
    let closed = false
    let lastCause: unknown

    const idOf = (key: K) =>
      Effect.try({ try: () => keyspace.storeKey(key), catch: (error) => error as InvalidKey })

    const admit = (key: K, id: string, value: V) => {
      if (!buffer.has(id) && buffer.size >= config.maxPending)
        return Effect.fail(new BufferFull({ writer, limit: config.maxPending }))
      const written = buffer.write(key, id, value)
      if (buffer.pendingKeys >= config.maxBatch) wake.openUnsafe()
      return Effect.succeed(written)
    }

    const set = (key: K, value: V) =>
      Effect.gen(function* () {
        if (closed) return yield* new WriteBehindClosed({ writer })
        if (isCounter)
          return yield* new InvalidArgument({
            argument: "set",
            message: `"${keyspace.id}" is a counter keyspace: write it with increment`,
          })
        const id = yield* idOf(key)
        if (!isValue(value))
          return yield* new InvalidValue({
            keyspace: keyspace.id,
            message: "the value does not match the keyspace's value schema; nothing was buffered",
          })
        yield* admit(key, id, value)
      })

    const increment = (key: K, by: number = 1) =>
      Effect.gen(function* () {
        if (closed) return yield* new WriteBehindClosed({ writer })
        if (!isCounter)
          return yield* new InvalidArgument({
            argument: "increment",
            message: `"${keyspace.id}" is not a counter keyspace: write it with set`,
          })
        const amount = yield* Effect.try({
          try: () => Argument.integer("increment.by", by),
          catch: (error) => error as InvalidArgument,
        })
        const id = yield* idOf(key)
        yield* admit(key, id, amount as V)
        return buffer.read(id) as number
      })

    const get = (key: K) => Effect.map(idOf(key), (id) => Option.fromUndefinedOr(buffer.read(id)))

    /** One flush of up to `maxBatch` keys; `false` when it failed (its entries are back in the buffer). */
    const flushBatch = (attempt: number) =>
      Effect.gen(function* () {
        const batch = buffer.take(config.maxBatch)
        const started = Date.now()
        const exit = yield* Effect.exit(flush(batch)).pipe(
          // Interrupted by a close that ran out of time: the batch goes back, to be reported as left over.
          Effect.onInterrupt(() => Effect.sync(() => buffer.giveBack())),
        )
        if (Exit.isSuccess(exit)) {
          buffer.settle()
          counts.flushes++
          counts.flushedEntries += batch.length
          yield* Metric.update(flushedMetric, batch.length)
          const writes = batch.reduce((sum, write) => sum + write.writes, 0)
          events.emit({
            _tag: "Flushed",
            writer,
            entries: batch.length,
            writes,
            millis: Date.now() - started,
          })
          return true
        }
        buffer.giveBack()
        counts.failures++
        lastCause = exit.cause
        yield* Metric.update(failuresMetric, 1)
        const retryInMillis = Math.min(config.retryMax, config.retryInitial * 2 ** Math.min(attempt, 30))
        events.emit({
          _tag: "FlushFailed",
          writer,
          entries: batch.length,
          attempt: attempt + 1,
          retryInMillis,
          cause: exit.cause,
        })
        yield* Effect.sleep(retryInMillis)
        return false
      })

    const loop = Effect.gen(function* () {
      let failuresInRow = 0
      while (true) {
        if (failuresInRow === 0) {
          if (closed && buffer.pendingKeys === 0) return
          if (!closed) {
            yield* Effect.raceFirst(Effect.sleep(config.interval), wake.await)
            wake.closeUnsafe()
          }
        }
        while (buffer.pendingKeys > 0) {
          if (yield* flushBatch(failuresInRow)) failuresInRow = 0
          else {
            failuresInRow++
            break
          }
        }
      }
    })
    const fiber = yield* Effect.forkScoped(loop)

    const close = Effect.gen(function* () {
      closed = true
      wake.openUnsafe()
      const ended = yield* Effect.timeoutOption(Fiber.await(fiber), config.closeTimeout)
      if (Option.isNone(ended)) yield* Fiber.interrupt(fiber)
      const left = buffer.entries()
      if (left.length > 0)
        return yield* new FlushIncomplete({ writer, remaining: left.length, entries: left, cause: lastCause })
    })
    // Runs before the loop's fiber is interrupted (finalizers run in reverse order).
    yield* Effect.addFinalizer(() =>
      close.pipe(
        Effect.catchTag("FlushIncomplete", (error) =>
          Effect.gen(function* () {
            events.emit({ _tag: "Abandoned", writer, entries: error.remaining, cause: error.cause })
            yield* Effect.logError(error.message)
          }),
        ),
      ),
    )

    return {
      name: writer,
      set,
      increment,
      get,
      stats: () => ({
        pending: buffer.pendingKeys,
        inFlight: buffer.inFlightKeys,
        ...counts,
      }),
      onEvent: events.add,
      close,
    } satisfies WriteBehind<K, V>
  })
