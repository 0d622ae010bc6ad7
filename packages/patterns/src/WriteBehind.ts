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
import { Argument, InvalidArgument, type InvalidKey, InvalidValue } from "@strata/core"
import { Effect, Exit, Fiber, Latch, Metric, Option, Schema, type Scope } from "effect"
import { Buffer } from "./WriteBehindBuffer.ts"
import { BufferFull, FlushIncomplete, WriteBehindClosed } from "./WriteBehindErrors.ts"
import { listeners, type WriteBehindEvent, WriteBehindMetrics } from "./WriteBehindEvent.ts"
import { type Options, parse } from "./WriteBehindOptions.ts"

export type { PendingWrite } from "./WriteBehindBuffer.ts"
export type { Options } from "./WriteBehindOptions.ts"

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

/**
 * Makes a writer whose flush loop runs in the current scope. Closing the
 * scope without `close()` still drains it (up to `closeTimeoutMillis`);
 * what it cannot flush is reported as an `Abandoned` event and logged.
 * Fails with `InvalidArgument` naming the option, before anything is
 * built, for a bad option: an unknown name (`flushIntervalMilis`), a batch
 * size of 0, a negative or `NaN` interval, a missing `flush` or keyspace.
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
      try: () => parse<K, V>(options),
      catch: (error) => error as InvalidArgument,
    })
    const { keyspace } = config
    const { flush } = options
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

    // The write path runs no generator (an `Effect.gen` per call costs several µs): checks are synchronous
    // and the result is an already-built success or failure, inside one `Effect.suspend` so it stays lazy.
    const idOf = (key: K): string | InvalidKey => {
      try {
        return keyspace.storeKey(key)
      } catch (error) {
        return error as InvalidKey
      }
    }

    const admit = (key: K, id: string, value: V): BufferFull | undefined => {
      if (!buffer.has(id) && buffer.size >= config.maxPending)
        return new BufferFull({ writer, limit: config.maxPending })
      buffer.write(key, id, value)
      if (buffer.pendingKeys >= config.maxBatch) wake.openUnsafe()
      return undefined
    }

    const setNow = (
      key: K,
      value: V,
    ): Effect.Effect<void, InvalidKey | InvalidValue | InvalidArgument | BufferFull | WriteBehindClosed> => {
      if (closed) return Effect.fail(new WriteBehindClosed({ writer }))
      if (isCounter)
        return Effect.fail(
          new InvalidArgument({
            argument: "set",
            message: `"${keyspace.id}" is a counter keyspace: write it with increment`,
          }),
        )
      const id = idOf(key)
      if (typeof id !== "string") return Effect.fail(id)
      if (!isValue(value))
        return Effect.fail(
          new InvalidValue({
            keyspace: keyspace.id,
            message: "the value does not match the keyspace's value schema; nothing was buffered",
          }),
        )
      const full = admit(key, id, value)
      return full === undefined ? Effect.void : Effect.fail(full)
    }
    const set = (key: K, value: V) => Effect.suspend(() => setNow(key, value))

    const incrementNow = (
      key: K,
      by: number,
    ): Effect.Effect<number, InvalidKey | InvalidArgument | BufferFull | WriteBehindClosed> => {
      if (closed) return Effect.fail(new WriteBehindClosed({ writer }))
      if (!isCounter)
        return Effect.fail(
          new InvalidArgument({
            argument: "increment",
            message: `"${keyspace.id}" is not a counter keyspace: write it with set`,
          }),
        )
      let amount: number
      try {
        amount = Argument.integer("increment.by", by)
      } catch (error) {
        return Effect.fail(error as InvalidArgument)
      }
      const id = idOf(key)
      if (typeof id !== "string") return Effect.fail(id)
      const full = admit(key, id, amount as V)
      return full === undefined ? Effect.succeed(buffer.read(id) as number) : Effect.fail(full)
    }
    const increment = (key: K, by: number = 1) => Effect.suspend(() => incrementNow(key, by))

    const get = (key: K) =>
      Effect.suspend(() => {
        const id = idOf(key)
        return typeof id === "string"
          ? Effect.succeed(Option.fromUndefinedOr(buffer.read(id)))
          : Effect.fail(id)
      })

    /** One flush of up to `maxBatch` keys; `false` when it failed (its entries are back in the buffer). */
    const flushBatch = (attempt: number) =>
      Effect.gen(function* () {
        const batch = buffer.take(config.maxBatch)
        const started = Date.now()
        // Suspended: a flush that throws instead of returning an effect is a failed flush, not a dead loop.
        const exit = yield* Effect.exit(Effect.suspend(() => flush(batch))).pipe(
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
