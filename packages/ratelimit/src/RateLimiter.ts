/**
 * A rate limiter is declared once, like a keyspace: its name, the schema of
 * its key (the subject being limited: a user id, an IP, a route and a user),
 * its algorithm and its numbers. `consume` then asks the store (memory or
 * Redis, provided as a layer) whether a request may pass, and counts it.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { MemoryRateStore, RateLimiter } from "@strata/ratelimit"
 *
 * const Search = RateLimiter.make({
 *   name: "api.search",
 *   key: Schema.Struct({ userId: Schema.String }),
 *   algorithm: "gcra",
 *   limit: 10,
 *   window: "1 second",
 *   burst: 20,
 * })
 *
 * const decision = await Effect.runPromise(
 *   RateLimiter.consume(Search, { userId: "u1" }).pipe(Effect.provide(MemoryRateStore.layer())),
 * )
 * // { allowed: true, limit: 20, remaining: 19, resetAt: ..., retryAfter: 0, source: "store" }
 * ```
 *
 * @since 0.1.0
 */
import { type InvalidKey, Keyspace, type StoreError, Timeout } from "@strata/core"
import { Duration, Effect, Schema } from "effect"
import type { Name, Outcome, Params } from "./Algorithm.ts"
import { names } from "./Algorithm.ts"
import { type InvalidCost, InvalidLimiter, type InvalidLimiterReason } from "./Errors.ts"
import { fromStore, isCount, onFailure, stepOf } from "./internal/decide.ts"
import * as MemoryRateStore from "./MemoryRateStore.ts"
import { RateLimitStore, type Service } from "./RateLimitStore.ts"

/** Products of the numbers an algorithm multiplies must stay below this (exact in doubles and Lua, with room). */
const MAX_PRODUCT = 2 ** 50
/** The longest sliding log (entries kept per key). */
const MAX_LOG = 100_000
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

/**
 * What to do when the store cannot answer (Redis down, a timeout):
 * `"error"` fails with `StoreUnavailable` or `Timeout` (the default);
 * `"open"` admits the request (`source: "fail-open"`); `"closed"` denies it
 * (`source: "fail-closed"`, retry after 1 s or the window if shorter).
 */
export type OnStoreFailure = "error" | "open" | "closed"

/** The options of {@link make}. Times are ms or Effect durations (`"1 minute"`). */
export interface Options<KS extends Keyspace.AnySchema> {
  /** Stable name, `[a-z0-9][a-z0-9._-]*`, at most 64 characters. Part of every storage key. */
  readonly name: string
  /** Schema of the subject being limited. Its encoded form becomes the storage key (see `@strata/core` KeyEncoding). */
  readonly key: KS
  readonly algorithm: Name
  /** Units (requests, or cost) per window: a whole number of at least 1. */
  readonly limit: number
  /** The window (token bucket and GCRA: `limit` units refill per window). Positive, under 2^31 ms. */
  readonly window: Duration.Input
  /** Token bucket and GCRA only: the most units admitted at once. Default `limit`. */
  readonly burst?: number | undefined
  /** See {@link OnStoreFailure}. Default `"error"`. */
  readonly onStoreFailure?: OnStoreFailure | undefined
  /** The longest a decision may wait for the store, in ms; then it is a `Timeout` (handled by `onStoreFailure`). */
  readonly timeoutMillis?: number | undefined
  /**
   * While the store fails, decide with an in-process limiter of the same
   * algorithm and window admitting `limit` units per process (`source:
   * "insurance"`): with `n` processes at most `n × limit` pass. Takes
   * precedence over `onStoreFailure`.
   */
  readonly insurance?: { readonly limit: number } | undefined
}

/** A declared limiter. `K` is its key type, inferred from the key schema. */
export interface RateLimiter<in out K> {
  readonly name: string
  readonly algorithm: Name
  /** The checked numbers (ms, units). */
  readonly params: Params
  /** The most units one request may cost, and the most `remaining` can be: `burst` or `limit`. */
  readonly capacity: number
  readonly onStoreFailure: OnStoreFailure
  readonly timeoutMillis: number | undefined
  /** The storage key of `key`; throws `InvalidKey` when it does not match the key schema. */
  readonly storeKey: (key: K) => string
  /** The in-process insurance limiter, if declared. */
  readonly insurance: { readonly params: Params; readonly store: Service } | undefined
}

/** A decision: the algorithm's outcome, the capacity, and who decided. */
export interface Decision extends Outcome {
  /** The capacity (`burst` for token bucket and GCRA, else `limit`): the most `remaining` can be. */
  readonly limit: number
  /** `"store"`, or how a store failure was handled: `"fail-open"`, `"fail-closed"`, `"insurance"`. */
  readonly source: "store" | "fail-open" | "fail-closed" | "insurance"
}

/** A duration's length in ms, or `undefined` when it is not one (Keyspace.make then says why). */
const fractionOf = (window: Duration.Input): number | undefined => {
  try {
    const parsed = Duration.fromInput(window)
    return parsed._tag === "Some" ? Duration.toMillis(parsed.value) : undefined
  } catch {
    return undefined
  }
}

/**
 * Declares a limiter. Throws `InvalidLimiter` (with a `reason`) for a bad
 * name, algorithm, limit (0, negative, `NaN`, a fraction), window (0,
 * negative, `NaN`), burst, or numbers too large to compute exactly, so a
 * wrong declaration fails when its module loads. See the module example.
 */
const OPTIONS: ReadonlyArray<string> = [
  "name",
  "key",
  "algorithm",
  "limit",
  "window",
  "burst",
  "onStoreFailure",
  "timeoutMillis",
  "insurance",
]

export const make = <KS extends Keyspace.AnySchema>(options: Options<KS>): RateLimiter<KS["Type"]> => {
  const { name } = options
  const invalid = (reason: InvalidLimiterReason, message: string) =>
    new InvalidLimiter({ limiter: String(name), reason, message })
  if (typeof name !== "string" || !NAME.test(name))
    throw invalid("name", `limiter name ${JSON.stringify(name)} must be 1 to 64 characters of [a-z0-9._-]`)
  // A misspelt option (`onStoreFaliure`) must not quietly leave a limiter failing open or erroring.
  for (const option of Object.keys(options))
    if (!OPTIONS.includes(option))
      throw invalid(
        "option",
        `unknown option ${JSON.stringify(option)}; the options are ${OPTIONS.join(", ")}`,
      )
  if (!names.includes(options.algorithm))
    throw invalid(
      "algorithm",
      `algorithm must be one of ${names.join(", ")}, got ${String(options.algorithm)}`,
    )
  if (!isCount(options.limit))
    throw invalid("limit", `limit must be a whole number of at least 1, got ${String(options.limit)}`)
  if (!Schema.isSchema(options.key))
    throw invalid("key", `key must be a Schema (such as Schema.String), got ${typeof options.key}`)
  // A fraction of a millisecond would be rounded up: a silent change of what was declared.
  const exact = typeof options.window === "number" ? options.window : fractionOf(options.window)
  if (typeof exact === "number" && Number.isFinite(exact) && !Number.isInteger(exact))
    throw invalid("window", `window must be a whole number of milliseconds, got ${exact} ms`)
  let keyspace: Keyspace.Keyspace<KS["Type"], number>
  try {
    keyspace = Keyspace.make({ name, key: options.key, value: Schema.Number, ttl: options.window })
  } catch (error) {
    throw invalid("window", `window: ${(error as Error).message}`)
  }
  const windowMillis = keyspace.ttlMillis
  const bucket = options.algorithm === "token-bucket" || options.algorithm === "gcra"
  if (options.burst !== undefined && (!bucket || !isCount(options.burst)))
    throw invalid(
      "burst",
      bucket
        ? `burst must be a whole number of at least 1, got ${String(options.burst)}`
        : `burst applies to token-bucket and gcra only, not ${options.algorithm}`,
    )
  const burst = options.burst ?? options.limit
  if (
    options.limit * windowMillis > MAX_PRODUCT ||
    burst * windowMillis > MAX_PRODUCT ||
    (options.algorithm === "sliding-log" && options.limit > MAX_LOG)
  )
    throw invalid(
      "range",
      `limit × window and burst × window must stay below 2^50${options.algorithm === "sliding-log" ? `, and a sliding log below ${MAX_LOG} entries` : ""}`,
    )
  const onStoreFailure = options.onStoreFailure ?? "error"
  if (!["error", "open", "closed"].includes(onStoreFailure))
    throw invalid(
      "option",
      `onStoreFailure must be "error", "open" or "closed", got ${String(onStoreFailure)}`,
    )
  if (
    options.timeoutMillis !== undefined &&
    !(isCount(options.timeoutMillis) && options.timeoutMillis < 2 ** 31)
  )
    throw invalid(
      "option",
      `timeoutMillis must be a whole number of ms from 1, got ${String(options.timeoutMillis)}`,
    )
  const params: Params = { limit: options.limit, windowMillis, burst }
  let insurance: RateLimiter<KS["Type"]>["insurance"]
  if (options.insurance !== undefined) {
    const limit = options.insurance.limit
    if (!isCount(limit) || limit > options.limit)
      throw invalid(
        "option",
        `insurance.limit must be a whole number from 1 to the limit, got ${String(limit)}`,
      )
    insurance = {
      params: { limit, windowMillis, burst: Math.max(1, Math.floor((burst * limit) / options.limit)) },
      store: MemoryRateStore.make(),
    }
  }
  return {
    name,
    algorithm: options.algorithm,
    params,
    capacity: burst,
    onStoreFailure,
    timeoutMillis: options.timeoutMillis,
    // The keyspace gives the key within its space; the space (name and version) goes first.
    storeKey: (key) => `${keyspace.id}:${keyspace.storeKey(key)}`,
    insurance,
  }
}

const run = <K>(
  limiter: RateLimiter<K>,
  key: K,
  op: "consume" | "refund",
  amount: unknown,
): Effect.Effect<Decision, InvalidKey | InvalidCost | StoreError, RateLimitStore> =>
  Effect.suspend((): Effect.Effect<Decision, InvalidKey | InvalidCost | StoreError, RateLimitStore> => {
    const step = stepOf(limiter, key, op, amount)
    if (!("algorithm" in step)) return Effect.fail(step)
    const decided = RateLimitStore.use((store) => store.apply(step))
    const bounded =
      limiter.timeoutMillis === undefined
        ? decided
        : Effect.timeoutOrElse(decided, {
            duration: limiter.timeoutMillis,
            orElse: () =>
              Effect.fail(
                new Timeout({ operation: `ratelimit ${op} ${limiter.name}`, millis: limiter.timeoutMillis! }),
              ),
          })
    return Effect.catch(
      Effect.map(bounded, (outcome) => fromStore(limiter, outcome)),
      (error: StoreError) => onFailure(limiter, step, error),
    )
  })

/**
 * Asks whether a request of `cost` units (default 1) by `key` may pass, and
 * counts it if so, in one atomic step on the store. A denied request counts
 * nothing. Fails with `InvalidKey` (the key does not match the key schema)
 * or `InvalidCost` (not a whole number from 1 to the capacity) before any
 * I/O, and with `StoreUnavailable` or `Timeout` when the store cannot answer
 * and the limiter neither fails open or closed nor has insurance.
 */
export const consume = <K>(
  limiter: RateLimiter<K>,
  key: K,
  cost: number = 1,
): Effect.Effect<Decision, InvalidKey | InvalidCost | StoreError, RateLimitStore> =>
  run(limiter, key, "consume", cost)

/**
 * Gives back `amount` units counted earlier for `key` (a request that turned
 * out not to count: a cache hit, a failed upstream call). Never goes below an
 * empty state; the decision reports the new `remaining`. Same failures as
 * {@link consume}; a refund is never failed open or closed.
 */
export const refund = <K>(
  limiter: RateLimiter<K>,
  key: K,
  amount: number = 1,
): Effect.Effect<Decision, InvalidKey | InvalidCost | StoreError, RateLimitStore> =>
  run(limiter, key, "refund", amount)
