/**
 * @strata/ratelimit: rate limiting on Strata. Five algorithms (fixed window,
 * sliding log, sliding window counter, token bucket, GCRA), an exact memory
 * store, and a Redis store under `@strata/ratelimit/redis` that decides in one
 * atomic script call on Redis's clock.
 *
 * @since 0.1.0
 */
export * as Algorithm from "./Algorithm.ts"
export * from "./Errors.ts"
export { type CreateRateLimiterOptions, createRateLimiter, type RateLimiterClient } from "./Facade.ts"
export * as HttpRateLimit from "./HttpRateLimit.ts"
export * as MemoryRateStore from "./MemoryRateStore.ts"
export * as RateLimiter from "./RateLimiter.ts"
export * as RateLimitStore from "./RateLimitStore.ts"
