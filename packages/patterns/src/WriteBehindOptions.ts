/**
 * The options of the in-process write-behind writer (`WriteBehind.make`,
 * `createWriteBehind`) and their check, run before anything is built: an
 * unknown option name (a misspelling), a missing `flush` or keyspace, a bad
 * number or name is core's `InvalidArgument` naming the option.
 *
 * @since 0.1.0
 */
import { Argument, InvalidArgument, type Keyspace } from "@strata/core"
import type { Effect } from "effect"
import { knownOptions, optionalName, requiredFunction, requiredKeyspace } from "./internal/options.ts"
import type { PendingWrite } from "./WriteBehindBuffer.ts"

/** The options of `WriteBehind.make`. Every option is checked when the writer is made. */
export interface Options<K, V, E, R> {
  /** The keyspace of the keys and values: keys are validated and identified by its key encoding, values by its schema. A `Keyspace.counter` makes a counter writer (`increment`). */
  readonly keyspace: Keyspace.Keyspace<K, V>
  /**
   * Writes a batch to the source. It may fail (typed error, defect or throw):
   * the batch is kept and retried, so it must accept a batch again (an
   * upsert of the values; for counters, see the docs on exactly-once).
   */
  readonly flush: (batch: ReadonlyArray<PendingWrite<K, V>>) => Effect.Effect<void, E, R>
  /** A name for events and metrics (a non-empty string). Default: the keyspace's id. */
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

// Typed against the interface: an option added there and not here (or the reverse) fails to compile.
const OPTIONS = Object.keys({
  keyspace: true,
  flush: true,
  name: true,
  maxBatch: true,
  flushIntervalMillis: true,
  maxPending: true,
  retryInitialMillis: true,
  retryMaxMillis: true,
  closeTimeoutMillis: true,
} satisfies Record<keyof Options<unknown, unknown, unknown, unknown>, true>)

/** A writer's checked options, defaults filled in. */
export interface Config<K, V> {
  readonly keyspace: Keyspace.Keyspace<K, V>
  readonly name: string
  readonly maxBatch: number
  readonly interval: number
  readonly maxPending: number
  readonly retryInitial: number
  readonly retryMax: number
  readonly closeTimeout: number
}

/**
 * Checks `options` (those of `WriteBehind.make`, or of `createWriteBehind`,
 * which has the same names) and fills in the defaults; throws
 * `InvalidArgument` naming the first bad option.
 */
export const parse = <K, V>(input: unknown): Config<K, V> => {
  const options = knownOptions("options", input, OPTIONS)
  const keyspace = requiredKeyspace<K, V>(options.keyspace)
  requiredFunction("flush", options.flush, "write-behind needs a flush(batch) function")
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
    keyspace,
    name: optionalName("name", options.name, () => keyspace.id),
    maxBatch: Argument.optionalInteger("maxBatch", options.maxBatch, 100, { min: 1 }),
    interval: Argument.optionalMillis("flushIntervalMillis", options.flushIntervalMillis, 1_000),
    maxPending: Argument.optionalInteger("maxPending", options.maxPending, 10_000, { min: 1 }),
    retryInitial,
    retryMax,
    closeTimeout: Argument.optionalMillis("closeTimeoutMillis", options.closeTimeoutMillis, 5_000),
  }
}
