import { Argument, InvalidArgument, StoreUnavailable, Timeout } from "@strata/core"
import { Cluster, type ClusterOptions, Redis, type RedisOptions, ReplyError } from "ioredis"
import * as Scripts from "../Scripts.ts"

/** Where the store connects: exactly one of `url`, `redis` (standalone or Sentinel) or `cluster`. */
export interface ConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...` for TLS. */
  readonly url?: string | undefined
  /**
   * ioredis options for a standalone server, or a Sentinel set when
   * `sentinels` and `name` are given. TLS (`tls`), ACL user (`username`,
   * `password`) and the rest pass through.
   */
  readonly redis?: RedisOptions | undefined
  /** A Redis Cluster: its startup nodes and ioredis Cluster options. */
  readonly cluster?:
    | {
        readonly nodes: ReadonlyArray<{ readonly host: string; readonly port: number }>
        readonly options?: ClusterOptions | undefined
      }
    | undefined
  /** Per-command timeout; a command that takes longer fails with `Timeout`. Default 500 ms. */
  readonly commandTimeoutMillis?: number | undefined
  /** How long connecting at startup may take before it fails. Default 5,000 ms. */
  readonly connectTimeoutMillis?: number | undefined
  /**
   * A connection that has commands in flight and receives nothing for this
   * long (ms of responsive time: an event loop blocked meanwhile does not
   * count) is replaced, failing those commands. This is what detects a
   * black-holed link (which stays "ready" for ever otherwise). Default:
   * twice the command timeout; 0 turns it off.
   */
  readonly socketTimeoutMillis?: number | undefined
}

export type Client = Redis | Cluster

/**
 * How soon ioredis tries again after losing a connection: 10 ms, then 20,
 * ... at most 100 ms apart. Its default backs off to 2 s, which alone broke
 * the bound on how soon a node reads from Redis again after it comes back
 * (500 ms); a refused connection attempt on loopback or a LAN costs little.
 * A user's own `retryStrategy` wins.
 */
export const fastRetry = (attempt: number): number => Math.min(attempt * 10, 100)

/**
 * How long ioredis waits for a socket it ended to close before destroying
 * it. Its default, 2 s, is a timer that nothing clears when the socket never
 * connected (a refused connection): a process whose cache failed to start
 * then stayed alive 2 s for nothing. A user's own value wins.
 */
const disconnectTimeout = 100

/**
 * Options Strata forces on every connection, whatever the user passed:
 * no offline queue and no re-sending of unfulfilled commands, because a cache
 * write queued during a partition and applied after it heals can overwrite a
 * newer value written meanwhile by another process.
 */
const forced = (commandTimeout: number, connectTimeout: number) =>
  ({
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout,
    // Dead links are detected by `liveness`, which does not mistake a blocked event loop for one.
    socketTimeout: undefined,
    lazyConnect: true,
  }) as const

const CONNECTION_OPTIONS = [
  "url",
  "redis",
  "cluster",
  "commandTimeoutMillis",
  "connectTimeoutMillis",
  "socketTimeoutMillis",
]

/**
 * Refuses an option the store or the bus does not know (a misspelt timeout
 * or channel would silently fall back to its default): `InvalidArgument`.
 */
export const onlyKnownOptions = (options: object, own: ReadonlyArray<string>): void => {
  for (const name of Object.keys(options))
    if (!CONNECTION_OPTIONS.includes(name) && !own.includes(name))
      throw new InvalidArgument({
        argument: name,
        message: `unknown option ${JSON.stringify(name)}; the options are ${[...CONNECTION_OPTIONS, ...own].join(", ")}`,
      })
}

/** Checks the connection's numeric options before anything connects; throws `InvalidArgument`. */
export const checkConnectionOptions = (options: ConnectionOptions): void => {
  Argument.optionalMillis("commandTimeoutMillis", options.commandTimeoutMillis, 500)
  Argument.optionalMillis("connectTimeoutMillis", options.connectTimeoutMillis, 5_000)
  Argument.optionalMillis("socketTimeoutMillis", options.socketTimeoutMillis, 0, true)
}

/** How long a connection with calls in flight may stay silent before it is replaced (0: never). */
export const socketTimeoutOf = (options: ConnectionOptions): number =>
  options.socketTimeoutMillis ?? (options.commandTimeoutMillis ?? 500) * 2

// ioredis' typings do not hold under `exactOptionalPropertyTypes`; the options are checked by our own types above.
const RedisClient = Redis as unknown as new (...args: ReadonlyArray<unknown>) => Redis
const ClusterClient = Cluster as unknown as new (...args: ReadonlyArray<unknown>) => Cluster

/** Creates the client (not yet connected) for the options. */
export const createClient = (options: ConnectionOptions): Client => {
  const commandTimeout = options.commandTimeoutMillis ?? 500
  const connectTimeout = options.connectTimeoutMillis ?? 5_000
  const chosen = [options.url, options.redis, options.cluster].filter((o) => o !== undefined).length
  // Without one, ioredis would quietly connect to 127.0.0.1:6379, which may be someone else's Redis.
  if (chosen === 0) throw new Error("give one of `url`, `redis` or `cluster`: where Redis is")
  if (
    chosen > 1 &&
    !(options.url !== undefined && options.redis !== undefined && options.cluster === undefined)
  ) {
    throw new Error(
      "RedisStore: give either `url` (optionally with `redis` options), `redis`, or `cluster`, not several",
    )
  }
  let client: Client
  if (options.cluster !== undefined) {
    const { nodes, options: clusterOptions = {} } = options.cluster
    client = new ClusterClient(
      nodes.map((n) => ({ host: n.host, port: n.port })),
      {
        clusterRetryStrategy: fastRetry,
        ...clusterOptions,
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        lazyConnect: true,
        redisOptions: {
          retryStrategy: fastRetry,
          disconnectTimeout,
          ...clusterOptions.redisOptions,
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: 0,
          commandTimeout,
          connectTimeout,
        },
      } as ClusterOptions,
    )
  } else if (options.url !== undefined) {
    client = new RedisClient(options.url, {
      retryStrategy: fastRetry,
      disconnectTimeout,
      ...options.redis,
      enableAutoPipelining: true,
      ...forced(commandTimeout, connectTimeout),
    } as RedisOptions)
  } else {
    client = new RedisClient({
      retryStrategy: fastRetry,
      disconnectTimeout,
      ...options.redis,
      enableAutoPipelining: true,
      ...forced(commandTimeout, connectTimeout),
    } as RedisOptions)
  }
  for (const script of Scripts.all)
    client.defineCommand(script.name, { lua: script.lua, numberOfKeys: script.keys })
  return client
}

/** Runs a script defined on the client by {@link createClient}, on one key or (in order) several. */
export const runScript = <Args extends ReadonlyArray<string | number | Uint8Array>, Result>(
  client: Client,
  script: Scripts.Script<Args, Result>,
  keys: string | ReadonlyArray<string>,
  ...args: Args
): Promise<Result> =>
  (client as unknown as Record<string, (...a: Array<unknown>) => Promise<Result>>)[script.name]!(
    ...(typeof keys === "string" ? [keys] : keys),
    ...args.map(binary),
  )

/** `runScript`, with bulk replies as `Buffer`s (ioredis decodes them as UTF-8 text otherwise). */
export const runScriptBuffer = <Args extends ReadonlyArray<string | number | Uint8Array>>(
  client: Client,
  script: Scripts.Script<Args, unknown>,
  keys: string | ReadonlyArray<string>,
  ...args: Args
): Promise<unknown> =>
  (client as unknown as Record<string, (...a: Array<unknown>) => Promise<unknown>>)[`${script.name}Buffer`]!(
    ...(typeof keys === "string" ? [keys] : keys),
    ...args.map(binary),
  )

/** ioredis sends only `Buffer`s as binary (other typed arrays become "1,2,3"): wrap without copying. */
const binary = (arg: string | number | Uint8Array): string | number | Buffer =>
  arg instanceof Uint8Array && !Buffer.isBuffer(arg)
    ? Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength)
    : arg

/** The error reply of a write script whose deadline passed before Redis ran it. */
const LATE_REPLY = "STRATA_LATE"
/** The error reply of an increment whose count would leave the safe integer range. */
const RANGE_REPLY = "STRATA_RANGE"

/**
 * Turns a driver error into Strata's typed store errors. This is the one
 * place that reads ioredis's error texts (it has no error classes for them);
 * everything above it branches on `_tag` and `reason`.
 *
 * - `Command timed out`, and a script refused as late: `Timeout`.
 * - A reply error from Redis: `rejected` (nothing was written).
 * - `Stream isn't writeable` (offline queue off, no connection): `unreachable`.
 * - Anything else (a connection closed or aborted with the call in flight,
 *   a socket timeout, a Cluster that lost its slots): `connection-lost`,
 *   since the call may have reached Redis.
 */
export const toStoreError =
  (operation: string, commandTimeoutMillis: number) =>
  (cause: unknown): StoreUnavailable | Timeout => {
    const message = cause instanceof Error ? cause.message : String(cause)
    if (message === "Command timed out" || message.startsWith(LATE_REPLY))
      return new Timeout({ operation: `redis ${operation}`, millis: commandTimeoutMillis })
    const reason =
      cause instanceof ReplyError
        ? message.startsWith(RANGE_REPLY)
          ? "out-of-range"
          : "rejected"
        : message.startsWith("Stream isn't writeable")
          ? "unreachable"
          : "connection-lost"
    return new StoreUnavailable({ store: "redis", operation, reason, message, cause })
  }

/** Whether a connection error means the credentials or permissions are wrong (retrying will not help). */
export const isAccessError = (error: unknown): boolean =>
  error instanceof Error &&
  /WRONGPASS|NOAUTH|NOPERM|invalid username-password|no permissions/i.test(error.message)
