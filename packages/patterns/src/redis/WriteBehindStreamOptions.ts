/**
 * The options of the durable write-behind writer (`WriteBehindStream.make`)
 * and their checks: every number is checked when the writer is made, and a
 * bad one is core's `InvalidArgument` naming the option.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Argument, InvalidArgument, type Keyspace } from "@strata/core"
import type { RedisConnection } from "@strata/redis"
import type { Effect } from "effect"
import type { StreamWrite } from "./StreamEntry.ts"

/** The options of `WriteBehindStream.make`. Every number is checked when the writer is made. */
export interface Options<K, V, E, R> {
  /** Where the stream lives: `RedisConnection` options (`url`, `redis` or `cluster`, timeouts). */
  readonly redis: RedisConnection.Options
  /** An entry keyspace (`Keyspace.make`): keys and values are validated and encoded by its schemas. */
  readonly keyspace: Keyspace.Keyspace<K, V>
  /** Writes a batch to the source, idempotently and by version (see `WriteBehindStream`'s module docs). It may fail: the batch is retried. */
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
  /** First retry delay after a failure, in ms, doubled up to `retryMaxMillis`; ≥ 1, default 100. */
  readonly retryInitialMillis?: number | undefined
  /** Longest delay between retries, in ms; default 10,000 (raised to `retryInitialMillis` if below). */
  readonly retryMaxMillis?: number | undefined
  /** How long `close()` keeps flushing, in ms; default 5,000. What is left stays in the stream for other flushers. */
  readonly closeTimeoutMillis?: number | undefined
}

/** Checks `options` and fills in the defaults; throws `InvalidArgument` for a bad one. */
export const parse = <K, V, E, R>(options: Options<K, V, E, R>) => {
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
