import { type Algorithm, RateLimiter, RateLimitStore } from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Effect, Exit, Schema, Scope } from "effect"
import { Redis } from "ioredis"

/** A Redis rate store opened outside Effect, with a plain ioredis client beside it for inspection. */
export const openRedis = async (url: string, options: Partial<RedisRateStore.Options> = {}) => {
  const scope = Effect.runSync(Scope.make())
  const store = await Effect.runPromise(Scope.provide(RedisRateStore.make({ url, ...options }), scope))
  const inspect = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })
  inspect.on("error", () => {})
  return {
    store,
    inspect,
    /** Redis's own clock, ms. */
    serverTime: async () => {
      const [seconds, micros] = (await inspect.time()) as unknown as [string, string]
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    },
    close: async () => {
      inspect.disconnect()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    },
  }
}

/** Runs a limiter effect against `store`. */
export const runWith =
  (store: RateLimitStore.Service) =>
  <A, E>(effect: Effect.Effect<A, E, RateLimitStore.RateLimitStore>): Promise<A> =>
    Effect.runPromise(Effect.provideService(effect, RateLimitStore.RateLimitStore, store))

/** A string-keyed limiter. */
export const limiterOf = (
  algorithm: Algorithm.Name,
  numbers: { limit: number; windowMillis: number; burst?: number },
  extra: Partial<RateLimiter.Options<typeof Schema.String>> = {},
) =>
  RateLimiter.make({
    name: `t.${algorithm}`,
    key: Schema.String,
    algorithm,
    limit: numbers.limit,
    window: numbers.windowMillis,
    ...(numbers.burst === undefined ? {} : { burst: numbers.burst }),
    ...extra,
  })

export { RedisHarness }
