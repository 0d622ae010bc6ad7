/**
 * @strata/redis: the Redis tier of Strata (standalone, Sentinel, Cluster)
 * on ioredis.
 *
 * @since 0.1.0
 */
export * as RedisBus from "./RedisBus.ts"
export * as RedisConnection from "./RedisConnection.ts"
export * as RedisStore from "./RedisStore.ts"
export * as Scripts from "./Scripts.ts"
