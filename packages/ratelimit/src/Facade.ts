/**
 * The Promise facade: rate limiting for code that does not use Effect.
 * `createRateLimiter` builds a store (memory by default, or any layer such as
 * `RedisRateStore.layer(...)`) and returns async `consume`/`refund` that
 * reject with the same tagged errors as the Effect API (`InvalidKey`,
 * `InvalidCost`, `StoreUnavailable`, `Timeout`), all `Error` subclasses with
 * a `_tag`.
 *
 * @example
 * ```ts
 * const limits = await createRateLimiter()
 * const decision = await limits.consume(Search, { userId: "u1" })
 * if (!decision.allowed) console.log(`retry in ${decision.retryAfter} ms`)
 * await limits.close()
 * ```
 *
 * @since 0.1.0
 */

import type { StoreError } from "@strata/core"
import { Cause, Effect, Exit, type Layer, ManagedRuntime } from "effect"
import type { Outcome } from "./Algorithm.ts"
import { InvalidLimiter, RateLimiterClosed } from "./Errors.ts"
import { fromStore, onFailure, stepOf } from "./internal/decide.ts"
import * as MemoryRateStore from "./MemoryRateStore.ts"
import * as RateLimiter from "./RateLimiter.ts"
import { RateLimitStore, type Service } from "./RateLimitStore.ts"

/** The options of {@link createRateLimiter}. */
export interface CreateRateLimiterOptions {
  /** The store: a layer such as `RedisRateStore.layer({ url })`. Default: a memory store. */
  readonly store?: Layer.Layer<RateLimitStore, unknown> | undefined
}

/** The async operations of {@link createRateLimiter}. */
export interface RateLimiterClient {
  /** `RateLimiter.consume` as a Promise: the decision for a request of `cost` units (default 1). */
  consume<K>(limiter: RateLimiter.RateLimiter<K>, key: K, cost?: number): Promise<RateLimiter.Decision>
  /** `RateLimiter.refund` as a Promise: gives back `amount` units (default 1). */
  refund<K>(limiter: RateLimiter.RateLimiter<K>, key: K, amount?: number): Promise<RateLimiter.Decision>
  /** The store itself, for `RateLimiter.consume` in Effect code sharing this client's store. */
  readonly store: Service
  /** Closes the store (its Redis connection); later calls reject. */
  close(): Promise<void>
}

/**
 * Builds the store and returns the client. Rejects with the store's startup
 * failure (`StoreUnavailable`, `reason: "startup"`, for an unreachable
 * Redis).
 */
export const createRateLimiter = async (
  options: CreateRateLimiterOptions = {},
): Promise<RateLimiterClient> => {
  for (const name of Object.keys(options ?? {}))
    if (name !== "store")
      throw new InvalidLimiter({
        limiter: "createRateLimiter",
        reason: "option",
        message: `unknown option ${JSON.stringify(name)}; the only option is store`,
      })
  const runtime = ManagedRuntime.make(options.store ?? MemoryRateStore.layer())
  const built = await runtime.runPromiseExit(RateLimitStore.use(Effect.succeed))
  if (Exit.isFailure(built)) {
    await runtime.dispose()
    throw Cause.squash(built.cause)
  }
  const store = built.value
  let closed = false
  const run = async <A, E>(effect: Effect.Effect<A, E, RateLimitStore>): Promise<A> => {
    if (closed) throw new RateLimiterClosed({ message: "the rate limiter client was closed" })
    const exit = await Effect.runPromiseExit(Effect.provideService(effect, RateLimitStore, store))
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }
  const applyPromise = store.applyPromise
  /**
   * A decision straight from a store that answers with a Promise (Redis): no
   * Effect run unless the store fails (then the limiter's onStoreFailure, as
   * in RateLimiter.consume). A limiter with timeoutMillis takes the Effect path.
   */
  const decide = async <K>(
    limiter: RateLimiter.RateLimiter<K>,
    key: K,
    op: "consume" | "refund",
    amount: unknown,
  ) => {
    // JavaScript callers get no type check: a missing limiter is a typed error, not a TypeError.
    if (typeof limiter !== "object" || limiter === null || typeof limiter.storeKey !== "function")
      throw new InvalidLimiter({
        limiter: String(limiter),
        reason: "option",
        message: `${op} takes a limiter made by RateLimiter.make, got ${limiter === null ? "null" : typeof limiter}`,
      })
    if (applyPromise === undefined || limiter.timeoutMillis !== undefined)
      return run(
        op === "consume"
          ? RateLimiter.consume(limiter, key, amount as number)
          : RateLimiter.refund(limiter, key, amount as number),
      )
    if (closed) throw new RateLimiterClosed({ message: "the rate limiter client was closed" })
    const step = stepOf(limiter, key, op, amount)
    if (!("algorithm" in step)) throw step
    let outcome: Outcome
    try {
      outcome = await applyPromise(step)
    } catch (error) {
      return run(onFailure(limiter, step, error as StoreError))
    }
    return fromStore(limiter, outcome)
  }
  return {
    store,
    consume: (limiter, key, cost = 1) => decide(limiter, key, "consume", cost),
    refund: (limiter, key, amount = 1) => decide(limiter, key, "refund", amount),
    close: async () => {
      closed = true
      await runtime.dispose()
    },
  }
}
