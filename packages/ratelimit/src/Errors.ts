/**
 * The typed failures of `@strata/ratelimit`. Each is a `Schema.TaggedError`
 * (an `Error` subclass with a `_tag`): Effect code branches with
 * `Effect.catchTag`, Promise code with `instanceof` or `error._tag`. A key
 * that does not match the limiter's key schema fails with `@strata/core`'s
 * `InvalidKey`; a store that cannot answer fails with `StoreUnavailable` or
 * `Timeout` (unless the limiter fails open or closed, see `RateLimiter.make`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Which part of a limiter declaration is wrong:
 *
 * - `"name"`: not 1 to 64 characters of `[a-z0-9._-]` starting with a letter or digit.
 * - `"algorithm"`: not one of the five algorithm names.
 * - `"limit"`: not a whole number of at least 1 (0, negative, `NaN`, a fraction, a string).
 * - `"window"`: not a positive duration under 2^31 ms (0, negative, `NaN`, unparsable).
 * - `"burst"`: not a whole number of at least 1, or given to a window algorithm (which has none).
 * - `"range"`: the numbers are too large to compute exactly (limit × window or
 *   burst × window past 2^50, or a sliding log longer than 100,000 entries).
 * - `"option"`: another option (`onStoreFailure`, `timeout`, `insurance`, ...) is not usable.
 */
export const InvalidLimiterReason = Schema.Literals([
  "name",
  "key",
  "algorithm",
  "limit",
  "window",
  "burst",
  "range",
  "option",
])
export type InvalidLimiterReason = typeof InvalidLimiterReason.Type

/**
 * A limiter declaration is wrong. Thrown by `RateLimiter.make` when the module
 * that declares the limiter loads, so it shows at startup, not on the first
 * request. `reason` says which part (see {@link InvalidLimiterReason}).
 */
export class InvalidLimiter extends Schema.TaggedError<InvalidLimiter>()("InvalidLimiter", {
  limiter: Schema.String,
  reason: InvalidLimiterReason,
  message: Schema.String,
}) {}

/**
 * Why a request's cost (its weight) cannot be used:
 *
 * - `"not-a-count"`: not a whole number of at least 1 (0, negative, `NaN`, a fraction, a string).
 * - `"over-capacity"`: larger than the limiter's capacity (its limit, or its
 *   burst for token bucket and GCRA), so no amount of waiting would admit it.
 */
export const InvalidCostReason = Schema.Literals(["not-a-count", "over-capacity"])
export type InvalidCostReason = typeof InvalidCostReason.Type

/**
 * The cost given to `consume` or the amount given to `refund` is not usable
 * (see {@link InvalidCostReason}). Raised before any I/O: nothing was counted.
 */
export class InvalidCost extends Schema.TaggedError<InvalidCost>()("InvalidCost", {
  limiter: Schema.String,
  reason: InvalidCostReason,
  cost: Schema.Unknown,
  capacity: Schema.Number,
}) {
  override get message(): string {
    return this.reason === "over-capacity"
      ? `A cost of ${String(this.cost)} exceeds the capacity (${this.capacity}) of limiter "${this.limiter}": it could never be admitted`
      : `The cost given to limiter "${this.limiter}" must be a whole number of at least 1, got ${typeof this.cost === "number" ? String(this.cost) : typeof this.cost}`
  }
}

/** A call on a rate limiter client after its `close()`: nothing was decided. */
export class RateLimiterClosed extends Schema.TaggedError<RateLimiterClosed>()("RateLimiterClosed", {
  message: Schema.String,
}) {}
