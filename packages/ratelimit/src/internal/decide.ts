/**
 * The parts of one decision shared by the Effect API (`RateLimiter.consume`)
 * and the Promise facade's direct path: the checks made before any I/O, the
 * store's outcome as a {@link Decision}, and what a store failure becomes
 * under the limiter's `onStoreFailure` and `insurance`.
 *
 * @internal
 */
import type { InvalidKey, StoreError } from "@strata/core"
import { Effect } from "effect"
import type { Outcome } from "../Algorithm.ts"
import { InvalidCost } from "../Errors.ts"
import type { Decision, RateLimiter } from "../RateLimiter.ts"
import type { Step } from "../RateLimitStore.ts"

/** A whole number of at least 1 (a cost, a limit, a timeout). */
export const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 1

const checkCost = (limiter: RateLimiter<any>, cost: unknown): InvalidCost | undefined =>
  !isCount(cost)
    ? new InvalidCost({ limiter: limiter.name, reason: "not-a-count", cost, capacity: limiter.capacity })
    : cost > limiter.capacity
      ? new InvalidCost({ limiter: limiter.name, reason: "over-capacity", cost, capacity: limiter.capacity })
      : undefined

/**
 * The store step for `amount` units of `key`, or the error that refuses it
 * before any I/O: `InvalidCost` (not a whole number from 1 to the capacity)
 * or `InvalidKey` (the key does not match the key schema).
 */
export const stepOf = <K>(
  limiter: RateLimiter<K>,
  key: K,
  op: "consume" | "refund",
  amount: unknown,
): Step | InvalidCost | InvalidKey => {
  const bad = checkCost(limiter, amount)
  if (bad !== undefined) return bad
  try {
    return {
      algorithm: limiter.algorithm,
      key: limiter.storeKey(key),
      op,
      amount: amount as number,
      params: limiter.params,
      timeoutMillis: limiter.timeoutMillis,
    }
  } catch (error) {
    return error as InvalidKey
  }
}

/** The store's outcome as the limiter's decision. */
export const fromStore = (limiter: RateLimiter<any>, outcome: Outcome): Decision => ({
  ...outcome,
  limit: limiter.capacity,
  source: "store",
})

/**
 * What a store failure becomes: the insurance limiter's decision, a fail-open
 * or fail-closed decision (closed: `retryAfter` 1 s, or the window if
 * shorter), or the error itself (`onStoreFailure: "error"`, and always for a
 * refund).
 */
export const onFailure = (
  limiter: RateLimiter<any>,
  step: { readonly key: string; readonly op: "consume" | "refund"; readonly amount: number },
  error: StoreError,
): Effect.Effect<Decision, StoreError> => {
  const insurance = limiter.insurance
  if (insurance !== undefined) {
    const amount = Math.min(step.amount, insurance.params.burst)
    return Effect.map(
      insurance.store.apply({ ...step, algorithm: limiter.algorithm, amount, params: insurance.params }),
      (outcome): Decision => ({ ...outcome, limit: insurance.params.burst, source: "insurance" }),
    )
  }
  if (limiter.onStoreFailure === "error" || step.op === "refund") return Effect.fail(error)
  const now = Date.now()
  if (limiter.onStoreFailure === "open")
    return Effect.succeed({
      allowed: true,
      limit: limiter.capacity,
      remaining: limiter.capacity - step.amount,
      resetAt: now,
      retryAfter: 0,
      source: "fail-open",
    })
  const wait = Math.min(1_000, limiter.params.windowMillis)
  return Effect.succeed({
    allowed: false,
    limit: limiter.capacity,
    remaining: 0,
    resetAt: now + wait,
    retryAfter: wait,
    source: "fail-closed",
  })
}
