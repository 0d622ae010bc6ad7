/**
 * The Promise form of durable write-behind on a Redis Stream, for code that
 * does not use Effect: `createWriteBehindStream({ redis, keyspace, flush })`
 * where `flush` returns a Promise. The rules and the idempotency contract
 * are those of `WriteBehindStream`; calls reject with the same typed errors.
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import { run, startScoped } from "../internal/promise.ts"
import type { WriteBehindEvent } from "../WriteBehindEvent.ts"
import * as WriteBehindStream from "./WriteBehindStream.ts"
import { parse } from "./WriteBehindStreamOptions.ts"

/** The options of {@link createWriteBehindStream}: those of `WriteBehindStream.make`, with a Promise `flush`. */
export interface CreateWriteBehindStreamOptions<K, V>
  extends Omit<WriteBehindStream.Options<K, V, unknown, never>, "flush"> {
  /** Applies a batch to the source idempotently, by version; a rejection (or throw) is retried. */
  readonly flush: (batch: ReadonlyArray<WriteBehindStream.StreamWrite<K, V>>) => void | PromiseLike<void>
}

/** A durable writer with a Promise API. */
export interface WriteBehindStreamClient<K, V> {
  /** Appends the write to the stream; resolves with its version once it is in Redis. */
  set(key: K, value: V): Promise<string>
  /**
   * This writer's pending value of `key` (written through it, not yet
   * acknowledged by a flush), or `undefined`: read the source then. Rejects
   * with `InvalidKey`, or `StoreUnavailable` / `Timeout` when Redis cannot
   * be asked.
   */
  get(key: K): Promise<V | undefined>
  /** A snapshot of the counters. */
  stats(): WriteBehindStream.Stats
  /** Registers an event listener; returns the function that removes it. */
  on(listener: (event: WriteBehindEvent) => void): () => void
  /** Stops flushing and closes the connection; rejects with `FlushIncomplete` when a batch was left for others. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Connects and starts the writer (and its flusher, unless `flusher: false`).
 * Rejects with `InvalidArgument` naming the option, before connecting, for
 * a bad option (the checks of `WriteBehindStream.make`: an unknown name, a
 * missing `flush` or `redis`, an empty `stream`, a bad number), and with
 * `StoreUnavailable` when Redis cannot be reached.
 *
 * @example
 * ```ts
 * const lastSeen = await createWriteBehindStream({ redis: { url }, keyspace: LastSeen, flush: upsertIfNewer })
 * await lastSeen.set(42, Date.now())
 * const at = (await lastSeen.get(42)) ?? (await db.lastSeen(42)) // pending first, else the source
 * ```
 */
export const createWriteBehindStream = async <K, V>(
  options: CreateWriteBehindStreamOptions<K, V>,
): Promise<WriteBehindStreamClient<K, V>> => {
  // Checked before `flush` is wrapped: the wrapper is a function even when `flush` is not.
  parse(options)
  const flush = options.flush
  const { writer, close } = await startScoped(
    WriteBehindStream.make<K, V, unknown, never>({
      ...options,
      flush: (batch) => Effect.tryPromise({ try: async () => flush(batch), catch: (cause) => cause }),
    }),
  )
  return {
    set: (key, value) => run(writer.set(key, value)),
    get: (key) => run(writer.get(key)).then(Option.getOrUndefined),
    stats: writer.stats,
    on: writer.onEvent,
    close,
    [Symbol.asyncDispose]: close,
  }
}
