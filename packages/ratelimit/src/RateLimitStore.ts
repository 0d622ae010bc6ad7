/**
 * The contract of a rate-limit store: it applies one algorithm step to one
 * key, atomically, and answers with the {@link Outcome}. The memory store
 * (`MemoryRateStore`) keeps state in this process; the Redis store
 * (`@strata/ratelimit/redis`) runs each step as one Lua script call on
 * Redis's clock. A store never sees keys it must validate: the limiter has
 * encoded and checked them.
 *
 * @since 0.1.0
 */
import type { StoreError } from "@strata/core"
import { Context, type Effect } from "effect"
import type { Name, Outcome, Params } from "./Algorithm.ts"

/** One step: consume `amount` units (a request's cost) or give `amount` back. */
export interface Step {
  readonly algorithm: Name
  /** The storage key: limiter name, version and encoded key; the store may prefix it. */
  readonly key: string
  readonly op: "consume" | "refund"
  /** Units, a whole number from 1 to the limiter's capacity. */
  readonly amount: number
  readonly params: Params
  /**
   * How long the caller waits for the decision, ms (the limiter's
   * `timeoutMillis`), when it waits less than the store's own timeout. A
   * store that can refuse late work (Redis) refuses the step past it, so a
   * decision its caller stopped waiting for is never counted later.
   */
  readonly timeoutMillis?: number | undefined
}

/** A store's operations. */
export interface Service {
  /** `"memory"`, `"redis"`, or a driver's own name, for errors and logs. */
  readonly name: string
  /** Applies `step` atomically. Fails with `StoreUnavailable` or `Timeout` when the store cannot answer. */
  readonly apply: (step: Step) => Effect.Effect<Outcome, StoreError>
  /**
   * Optional: `apply` as a Promise rejecting with the same typed errors. The
   * Promise facade calls it when present (and the limiter has no
   * `timeoutMillis`), saving an Effect run per decision.
   */
  readonly applyPromise?: ((step: Step) => Promise<Outcome>) | undefined
}

/** The rate-limit store service, provided by `MemoryRateStore.layer` or `RedisRateStore.layer`. */
export class RateLimitStore extends Context.Service<RateLimitStore, Service>()(
  "@strata/ratelimit/RateLimitStore",
) {}
