/**
 * The JSON API's rate limits, through `@strata/ratelimit`'s Fastify hook:
 * one GCRA limiter per client IP and one per user, each `limit` requests a
 * minute with bursts of up to `limit`. The user is the `x-user-id` request
 * header (the shop has no login; a real one takes it from the session); a
 * request without it is limited by IP only. Every `/api/` response carries
 * the IETF `RateLimit-Policy` and `RateLimit` headers, one list item per
 * limiter that applied; a request over a limit is answered `429` with
 * `Retry-After`. Counters live in memory, or in Redis (shared by every
 * process) when the shop runs on Redis. A limiter whose store fails lets
 * requests through (`onStoreFailure: "open"`): the shop stays up when Redis
 * does not.
 */
import { createRateLimiter, RateLimiter, type RateLimiterClient } from "@strata/ratelimit"
import { rateLimit } from "@strata/ratelimit/fastify"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { Schema } from "effect"
import type { FastifyInstance } from "fastify"
import { intParam } from "./Requests.ts"

/** The request header naming the user. */
export const USER_HEADER = "x-user-id"

/** The limits; every field has a default. */
export interface RateLimitOptions {
  /** Requests a minute per client IP. Default 6,000 (the demo's scripted traffic comes from one loopback IP). */
  readonly perIp?: number | undefined
  /** Requests a minute per user (`x-user-id`). Default 120. */
  readonly perUser?: number | undefined
  /** Reverse proxies in front of the shop whose `X-Forwarded-For` entries are trusted. Default none. */
  readonly trustProxy?: boolean | number | undefined
}

/** The default limits, per minute. */
export const defaults = { perIp: 6_000, perUser: 120 } as const

/**
 * The user of a request: its `x-user-id` header as a canonical whole number
 * (`007` is user `7`), or `undefined`. Throws `BadRequest` when malformed,
 * which the hook hands to Fastify's error handling (a 400).
 */
const userOf = (header: string | Array<string> | undefined): string | undefined =>
  header === undefined ? undefined : String(intParam(header, USER_HEADER, 1, 2 ** 31 - 1))

/** The limiters and their client (memory or Redis store). */
export interface Limits {
  readonly client: RateLimiterClient
  readonly perIp: RateLimiter.RateLimiter<string>
  readonly perUser: RateLimiter.RateLimiter<string>
  readonly trustProxy: boolean | number | undefined
}

/**
 * Declares the limiters and starts their store: Redis at `redisUrl` when
 * given, else memory. Throws `InvalidLimiter` for a bad limit; rejects with
 * `StoreUnavailable` when Redis cannot be reached. Close `client` with the app.
 */
export const make = async (options: RateLimitOptions, redisUrl: string | undefined): Promise<Limits> => {
  const limiter = (name: string, limit: number) =>
    RateLimiter.make({
      name,
      key: Schema.String,
      algorithm: "gcra",
      limit,
      window: "1 minute",
      onStoreFailure: "open",
    })
  const perIp = limiter("shop.api.ip", options.perIp ?? defaults.perIp)
  const perUser = limiter("shop.api.user", options.perUser ?? defaults.perUser)
  const client = await createRateLimiter(
    redisUrl === undefined ? {} : { store: RedisRateStore.layer({ url: redisUrl, prefix: "shop:rl:" }) },
  )
  return { client, perIp, perUser, trustProxy: options.trustProxy }
}

/** Adds the limiters' `onRequest` hooks to `app` (IP first, then user), for `/api/` requests only. */
export const addHooks = (app: FastifyInstance, limits: Limits): void => {
  const skip = (request: { readonly url: string }) => !request.url.startsWith("/api/")
  const byIp = rateLimit({
    limiter: limits.perIp,
    limits: limits.client,
    skip,
    trustProxy: limits.trustProxy,
  })
  const byUser = rateLimit({
    limiter: limits.perUser,
    limits: limits.client,
    skip,
    key: (request) => userOf(request.headers[USER_HEADER]),
  })
  // Each hook adds its item to the RateLimit and RateLimit-Policy lists.
  app.addHook("onRequest", byIp)
  app.addHook("onRequest", byUser)
}
