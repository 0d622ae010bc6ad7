import { type InvalidCost, InvalidLimiter, MemoryRateStore, RateLimiter } from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { Effect, Layer, Schema } from "effect"

// #region declare
// Searches: 10 a minute per user, bursts of 20; GCRA keeps one number per user.
export const Search = RateLimiter.make({
  name: "api.search",
  key: Schema.Struct({ userId: Schema.String }),
  algorithm: "gcra",
  limit: 10,
  window: "1 minute",
  burst: 20,
})

// Logins: 5 attempts a minute per IP and account, exactly (a sliding log), denied if Redis is down.
export const Login = RateLimiter.make({
  name: "auth.login",
  key: Schema.Struct({ ip: Schema.String, account: Schema.String }),
  algorithm: "sliding-log",
  limit: 5,
  window: "1 minute",
  onStoreFailure: "closed",
  timeoutMillis: 250,
})
// #endregion declare

// #region bad-input
export const declarationErrors = () => {
  try {
    RateLimiter.make({
      name: "api.broken",
      key: Schema.String,
      algorithm: "fixed-window",
      limit: 0,
      window: "1 minute",
    })
  } catch (error) {
    if (error instanceof InvalidLimiter) return error.reason // "limit"
  }
  return "accepted"
}
// #endregion bad-input

// #region consume
const program = Effect.gen(function* () {
  const user = { userId: "u-1" }
  // An export costs 5 units of the search limit.
  const exported = yield* RateLimiter.consume(Search, user, 5)
  const searches = yield* Effect.forEach(Array.from({ length: 16 }), () => RateLimiter.consume(Search, user))
  const admitted = searches.filter((d) => d.allowed).length
  const denied = searches.find((d) => !d.allowed)
  // A cost above the burst can never pass: a typed error, not a denial.
  const tooBig = yield* RateLimiter.consume(Search, user, 21).pipe(
    Effect.catchTag("InvalidCost", (error: InvalidCost) => Effect.succeed(error.reason)),
  )
  // The search hit a cache: give its unit back.
  const refunded = yield* RateLimiter.refund(Search, user)
  return {
    exported: exported.remaining,
    admitted,
    retryAfter: denied?.retryAfter,
    tooBig,
    afterRefund: refunded.remaining,
  }
})
// #endregion consume

// #region stores
// In memory (one process) by default; on Redis (shared by every process) when a URL is given.
export const main = (redisUrl?: string) => {
  const store =
    redisUrl === undefined
      ? MemoryRateStore.layer()
      : RedisRateStore.layer({ url: redisUrl, prefix: "docs-rl:" })
  return Effect.runPromise(program.pipe(Effect.provide(Layer.fresh(store))))
}
// #endregion stores
