/**
 * A Redis connection made the way Strata makes its own: no offline queue, no
 * re-sent commands after a reconnect, a per-command timeout, reconnects at
 * most 100 ms apart, dead links detected without mistaking a blocked event
 * loop for one. For packages built on Strata that run their own commands and
 * scripts (rate limiters, durable write-behind logs), so that they fail the
 * same typed way the store does.
 *
 * @since 0.1.0
 */
import type { InvalidArgument, StoreUnavailable, Timeout } from "@strata/core"
import { Duration, Effect, Schedule, type Scope } from "effect"
import {
  type Client,
  type ConnectionOptions,
  checkConnectionOptions,
  createClient,
  socketTimeoutOf,
  toStoreError,
} from "./internal/connection.ts"
import * as Liveness from "./internal/liveness.ts"
import * as ServerClock from "./internal/serverClock.ts"
import { connect, startupFailure } from "./internal/startup.ts"

/** Where and how to connect: exactly one of `url`, `redis` (standalone or Sentinel) or `cluster`, and timeouts. */
export type Options = ConnectionOptions

/** An ioredis client: `Redis` for standalone and Sentinel, `Cluster` for a Cluster. */
export type RedisClient = Client

/** A connected client and the way to call it. */
export interface Connection {
  /** The ioredis client; define scripts on it with `defineCommand` or call it through {@link Connection.call}. */
  readonly client: RedisClient
  /**
   * Runs `f` on the client. A command that takes longer than the command
   * timeout fails with `Timeout`; any other failure is a `StoreUnavailable`
   * whose `reason` says whether the command was refused (`rejected`: nothing
   * happened), could not be sent (`unreachable`) or lost its connection on the
   * way (`connection-lost`: its outcome is unknown). `operation` names it in
   * the error.
   */
  readonly call: <A>(
    operation: string,
    f: (client: RedisClient) => Promise<A>,
  ) => Effect.Effect<A, StoreUnavailable | Timeout>
  /**
   * {@link Connection.call} as a Promise that rejects with the same typed
   * errors: for hot paths of Promise APIs, which would otherwise pay for an
   * Effect run per command.
   */
  readonly run: <A>(operation: string, f: (client: RedisClient) => Promise<A>) => Promise<A>
  /**
   * The deadline, in the server's time (epoch ms), of a command issued now
   * whose caller waits `waitMillis` (default: the command timeout) for it.
   * A script that compares it with `TIME` and refuses to run past it (replying
   * an error starting with `STRATA_LATE`, which `call` reports as `Timeout`)
   * can never act after its caller gave up (ADR 0008). Never later than the
   * true moment: the offset to the server's clock is a lower bound, read at
   * connect and every second.
   */
  readonly deadline: (waitMillis?: number) => number
}

/**
 * Connects (waiting for `ready`, at most `connectTimeoutMillis`, default
 * 5,000 ms) and closes the connection when the scope closes. Fails with
 * `InvalidArgument` for an unusable timeout, and with `StoreUnavailable`
 * (`reason: "startup"`) when the options are contradictory, the server
 * cannot be reached in time or refuses the credentials.
 */
export const make = (
  options: Options,
): Effect.Effect<Connection, StoreUnavailable | InvalidArgument, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.try({
      try: () => checkConnectionOptions(options),
      catch: (error) => error as InvalidArgument,
    })
    const client = yield* Effect.try({
      try: () => createClient(options),
      catch: (cause) => startupFailure("startup", (cause as Error).message, cause),
    })
    // Connection errors surface as typed failures of the calls; the events themselves must not crash the process.
    client.on("error", () => {})
    yield* Effect.acquireRelease(connect(client, options.connectTimeoutMillis ?? 5_000), () =>
      Effect.promise(async () => {
        try {
          await client.quit()
        } catch {
          client.disconnect()
        }
      }),
    )
    const liveness = yield* Liveness.make(client, socketTimeoutOf(options))
    const commandTimeout = options.commandTimeoutMillis ?? 500
    const serverClock = ServerClock.make(client)
    yield* Effect.tryPromise({
      try: serverClock.sync,
      catch: (cause) => startupFailure("startup", `reading the server's clock: ${String(cause)}`, cause),
    })
    yield* Effect.tryPromise(serverClock.sync).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(Duration.seconds(1))),
      Effect.forkScoped,
    )
    return {
      client,
      call: (operation, f) =>
        Effect.tryPromise({
          try: () => liveness.track(() => f(client)),
          catch: toStoreError(operation, commandTimeout),
        }),
      run: (operation, f) =>
        liveness
          .track(() => f(client))
          .catch((error: unknown) => {
            throw toStoreError(operation, commandTimeout)(error)
          }),
      deadline: (waitMillis = commandTimeout) => serverClock.deadline(Math.min(waitMillis, commandTimeout)),
    } satisfies Connection
  })
