/**
 * The Redis rate-limit store (`@strata/ratelimit/redis`): every decision is
 * ONE Lua script call on one key, so it is atomic across processes, costs one
 * round trip, and sets the key's TTL in the same call (no key is ever left
 * without one, whatever dies between two calls). Windows are decided by
 * Redis's clock (`TIME` inside the script), never by the caller's, so
 * processes whose clocks disagree share one timeline. Scripts are defined
 * once on the client and run by SHA (`EVALSHA`, reloaded after `NOSCRIPT`).
 *
 * Numbers stored in values are written with `string.format('%d')` (Lua's
 * own number-to-text conversion keeps 14 significant digits); the replies
 * are integers below 2^51, which Redis and ioredis carry exactly. Each key holds one algorithm's
 * state under `<prefix><algorithm>:<limiter>:v1:<encoded key>`, a single key
 * per decision, so it works on Redis Cluster as it does on one server.
 *
 * The connection is `@strata/redis`'s `RedisConnection` (no offline queue, a
 * per-command timeout): a failure is `StoreUnavailable` (with a `reason`) or
 * `Timeout`, which each limiter handles as it declared (`onStoreFailure`,
 * `insurance`).
 *
 * @example
 * ```ts
 * import { RedisRateStore } from "@strata/ratelimit/redis"
 * const layer = RedisRateStore.layer({ url: "redis://127.0.0.1:6379", prefix: "rl:" })
 * ```
 *
 * @since 0.1.0
 */
import type { InvalidArgument, StoreUnavailable } from "@strata/core"
import { RedisConnection } from "@strata/redis"
import { Effect, Layer, type Scope } from "effect"
import { luaScript, type Name, names, type Outcome } from "./Algorithm.ts"
import { byName } from "./algorithms/index.ts"
import { RateLimitStore, type Service, type Step } from "./RateLimitStore.ts"

/** The options of {@link make}: a `RedisConnection` (url, redis or cluster; timeouts) and a key prefix. */
export type Options = RedisConnection.Options & {
  /** Put before every key. Default `"rl:"`. */
  readonly prefix?: string | undefined
}

/** The ioredis command name of each algorithm's script. */
const commandOf: Readonly<Record<Name, string>> = {
  "fixed-window": "strataRateFixedWindow",
  "sliding-log": "strataRateSlidingLog",
  "sliding-window": "strataRateSlidingWindow",
  "token-bucket": "strataRateTokenBucket",
  gcra: "strataRateGcra",
}

/** Each algorithm's operation name in errors. */
const operationOf = Object.fromEntries(names.map((name) => [name, `ratelimit ${name}`])) as Record<
  Name,
  string
>

/** The full Lua source of an algorithm's script (for inspection and for benchmarks). */
export const scriptOf = (algorithm: Name): string => luaScript(byName[algorithm].lua)

type Reply = [allowed: number, remaining: number, resetAt: number, retryAfter: number]
type ScriptCall = (
  key: string,
  op: string,
  amount: number,
  limit: number,
  window: number,
  burst: number,
  deadline: number,
) => Promise<Reply>

/**
 * A store on a connection made elsewhere (one connection shared with other
 * Strata parts). Defines the scripts on the connection's client.
 */
export const fromConnection = (connection: RedisConnection.Connection, prefix = "rl:"): Service => {
  const client = connection.client
  for (const name of Object.keys(commandOf) as Array<Name>)
    client.defineCommand(commandOf[name], { lua: scriptOf(name), numberOfKeys: 1 })
  const send = (step: Step) => (redis: unknown) =>
    (redis as Record<string, ScriptCall>)[commandOf[step.algorithm]]!(
      `${prefix}${step.algorithm}:${step.key}`,
      step.op === "consume" ? "c" : "r",
      step.amount,
      step.params.limit,
      step.params.windowMillis,
      step.params.burst,
      connection.deadline(step.timeoutMillis),
    )
  return {
    name: "redis",
    apply: (step) => connection.call(operationOf[step.algorithm], send(step)).pipe(Effect.map(toOutcome)),
    applyPromise: (step) => connection.run(operationOf[step.algorithm], send(step)).then(toOutcome),
  }
}

const toOutcome = ([allowed, remaining, resetAt, retryAfter]: Reply): Outcome => ({
  allowed: allowed === 1,
  remaining,
  resetAt,
  retryAfter,
})

/**
 * Connects (see `RedisConnection.make`: fails with `InvalidArgument` for an
 * unusable timeout and `StoreUnavailable`, `reason: "startup"`, when Redis
 * cannot be reached in time) and closes the connection with the scope.
 */
export const make = (
  options: Options,
): Effect.Effect<Service, StoreUnavailable | InvalidArgument, Scope.Scope> =>
  Effect.map(RedisConnection.make(options), (connection) => fromConnection(connection, options.prefix))

/**
 * The Redis store as a layer.
 *
 * @example
 * ```ts
 * const program = RateLimiter.consume(Search, "user-1").pipe(
 *   Effect.provide(RedisRateStore.layer({ url: process.env.REDIS_URL! })),
 * )
 * ```
 */
export const layer = (options: Options): Layer.Layer<RateLimitStore, StoreUnavailable | InvalidArgument> =>
  Layer.effect(RateLimitStore, make(options))
