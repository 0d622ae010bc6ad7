/**
 * The options of the durable write-behind writer (`WriteBehindStream.make`)
 * and their checks, run before anything connects: an unknown option name (a
 * misspelling), a missing `flush`, keyspace or `redis` connection, an empty
 * `stream`, `group` or `consumer`, a non-boolean `flusher`, a bad number is
 * core's `InvalidArgument` naming the option.
 *
 * @since 0.1.0
 */
import { hostname } from "node:os"
import { Argument, InvalidArgument, type Keyspace } from "@strata/core"
import type { RedisConnection } from "@strata/redis"
import type { Effect } from "effect"
import {
  knownOptions,
  optionalBoolean,
  optionalName,
  requiredFunction,
  requiredKeyspace,
} from "../internal/options.ts"
import type { StreamWrite } from "./StreamEntry.ts"

/** The options of `WriteBehindStream.make`. Every option is checked when the writer is made. */
export interface Options<K, V, E, R> {
  /** Where the stream lives: `RedisConnection` options (`url`, `redis` or `cluster`, timeouts); required, names checked. */
  readonly redis: RedisConnection.Options
  /** An entry keyspace (`Keyspace.make`): keys and values are validated and encoded by its schemas. */
  readonly keyspace: Keyspace.Keyspace<K, V>
  /** Writes a batch to the source, idempotently and by version (see `WriteBehindStream`'s module docs). It may fail: the batch is retried. */
  readonly flush: (batch: ReadonlyArray<StreamWrite<K, V>>) => Effect.Effect<void, E, R>
  /** The stream's key, a non-empty string. Default `strata:wb:<keyspace id>`. */
  readonly stream?: string | undefined
  /** The consumer group of the flushers, a non-empty string. Default `"strata"`. It is recreated if it disappears. */
  readonly group?: string | undefined
  /** This process's consumer name (non-empty), unique per live process. Default `<hostname>-<pid>-<random>`. */
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

// Typed against the interfaces: an option added there and not here (or the reverse) fails to compile.
const OPTIONS = Object.keys({
  redis: true,
  keyspace: true,
  flush: true,
  stream: true,
  group: true,
  consumer: true,
  flusher: true,
  maxBatch: true,
  flushIntervalMillis: true,
  claimIdleMillis: true,
  maxLength: true,
  retryInitialMillis: true,
  retryMaxMillis: true,
  closeTimeoutMillis: true,
} satisfies Record<keyof Options<unknown, unknown, unknown, unknown>, true>)
const CONNECTION_OPTIONS = Object.keys({
  url: true,
  redis: true,
  cluster: true,
  commandTimeoutMillis: true,
  connectTimeoutMillis: true,
  socketTimeoutMillis: true,
} satisfies Record<keyof RedisConnection.Options, true>)

/** The connection options, checked for their names and for saying where Redis is (ioredis would try 127.0.0.1:6379). */
const connectionOf = (value: unknown): RedisConnection.Options => {
  if (value === undefined)
    throw new InvalidArgument({
      argument: "redis",
      message: `the durable writer needs redis: where its stream lives (${CONNECTION_OPTIONS.join(", ")})`,
    })
  const redis = knownOptions("redis", value, CONNECTION_OPTIONS, "redis.")
  if (redis.url === undefined && redis.redis === undefined && redis.cluster === undefined)
    throw new InvalidArgument({
      argument: "redis",
      message: "redis must say where Redis is: give one of url, redis or cluster",
    })
  return redis as RedisConnection.Options
}

/** A durable writer's checked options, defaults filled in (see {@link Options} for each). */
export interface Config<K, V> {
  readonly redis: RedisConnection.Options
  readonly keyspace: Keyspace.Keyspace<K, V>
  readonly stream: string
  readonly group: string
  readonly consumer: string
  readonly flusher: boolean
  readonly maxBatch: number
  readonly interval: number
  readonly claimIdle: number
  readonly maxLength: number
  readonly retryInitial: number
  readonly retryMax: number
  readonly closeTimeout: number
}

/**
 * Checks `options` (those of `WriteBehindStream.make`, or of
 * `createWriteBehindStream`, which has the same names) and fills in the
 * defaults; throws `InvalidArgument` naming the first bad option, before
 * anything connects.
 */
export const parse = <K, V>(input: unknown): Config<K, V> => {
  const options = knownOptions("options", input, OPTIONS)
  const redis = connectionOf(options.redis)
  const keyspace = requiredKeyspace<K, V>(options.keyspace)
  if (keyspace.kind !== "entry")
    throw new InvalidArgument({
      argument: "keyspace",
      message: "the durable writer takes an entry keyspace (counters would be summed again on a replay)",
    })
  requiredFunction("flush", options.flush, "write-behind needs a flush(batch) function")
  const retryInitial = Argument.optionalMillis("retryInitialMillis", options.retryInitialMillis, 100)
  return {
    redis,
    keyspace,
    stream: optionalName("stream", options.stream, () => `strata:wb:${keyspace.id}`),
    group: optionalName("group", options.group, () => "strata"),
    consumer: optionalName(
      "consumer",
      options.consumer,
      () => `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ),
    flusher: optionalBoolean("flusher", options.flusher, true),
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
