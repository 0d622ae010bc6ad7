/**
 * The Promise form of in-process write-behind, for code that does not use
 * Effect: `createWriteBehind({ keyspace, flush })` where `flush` returns a
 * Promise. The rules are those of `WriteBehind` (batches by size or time,
 * last write wins, counters sum, pending writes read back, failed flushes
 * kept and retried, `BufferFull`, `close` drains or rejects with
 * `FlushIncomplete`); calls reject with the same typed errors.
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import { run, startScoped } from "./internal/promise.ts"
import * as WriteBehind from "./WriteBehind.ts"
import type { WriteBehindEvent } from "./WriteBehindEvent.ts"
import { parse } from "./WriteBehindOptions.ts"

/** The options of {@link createWriteBehind}: those of `WriteBehind.make`, with a Promise `flush`. */
export interface CreateWriteBehindOptions<K, V>
  extends Omit<WriteBehind.Options<K, V, unknown, never>, "flush"> {
  /** Writes a batch to the source; a rejection (or throw) is a failed flush, retried with the same entries. */
  readonly flush: (batch: ReadonlyArray<WriteBehind.PendingWrite<K, V>>) => void | PromiseLike<void>
}

/** A write-behind writer with a Promise API. */
export interface WriteBehindClient<K, V> {
  /** Buffers `value` as the new value of `key` (entry keyspaces). */
  set(key: K, value: V): Promise<void>
  /** Adds `by` (default 1) to `key`'s pending count (counter keyspaces); resolves with the pending sum. */
  increment(key: K, by?: number): Promise<number>
  /** This process's pending value of `key` (a counter's pending sum), or `undefined`. */
  get(key: K): Promise<V | undefined>
  stats(): WriteBehind.Stats
  /** Registers an event listener; returns the function that removes it. */
  on(listener: (event: WriteBehindEvent) => void): () => void
  /** Drains and stops; rejects with `FlushIncomplete` listing what could not be flushed. */
  close(): Promise<void>
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Starts a writer. Rejects with `InvalidArgument` naming the option, before
 * anything is built, for a bad option (the checks of `WriteBehind.make`: an
 * unknown name, a missing `flush`, a bad number).
 *
 * @example
 * ```ts
 * const views = await createWriteBehind({
 *   keyspace: PageViews,
 *   flush: (batch) => db.addViews(batch.map(({ key, value }) => [key, value])),
 * })
 * await views.increment("/home")
 * await views.close()
 * ```
 */
export const createWriteBehind = async <K, V>(
  options: CreateWriteBehindOptions<K, V>,
): Promise<WriteBehindClient<K, V>> => {
  // Checked before `flush` is wrapped: the wrapper is a function even when `flush` is not.
  parse(options)
  const flush = options.flush
  const { writer, close } = await startScoped(
    WriteBehind.make<K, V, unknown, never>({
      ...options,
      flush: (batch) => Effect.tryPromise({ try: async () => flush(batch), catch: (cause) => cause }),
    }),
  )
  return {
    set: (key, value) => run(writer.set(key, value)),
    increment: (key, by) => run(writer.increment(key, by)),
    get: (key) => run(writer.get(key)).then(Option.getOrUndefined),
    stats: writer.stats,
    on: writer.onEvent,
    close,
    [Symbol.asyncDispose]: close,
  }
}
