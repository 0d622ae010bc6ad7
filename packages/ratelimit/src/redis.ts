/**
 * `@strata/ratelimit/redis`: the Redis rate-limit store, on its own entry so
 * that users of the memory store never load `@strata/redis` or ioredis.
 *
 * @since 0.1.0
 */
export * as RedisRateStore from "./RedisRateStore.ts"
