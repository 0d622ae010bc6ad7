/**
 * The systems under test, each configured the way its documentation
 * recommends for production (the configurations are also written in the
 * Benchmarks docs page). Every peer is a tiered cache over the same Redis:
 * an in-process L1 and Redis as L2.
 */
import KeyvRedis from "@keyv/redis"
import { Cache, createCache as createStrata, Keyspace, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import { redisBusDriver, redisDriver } from "bentocache/drivers/redis"
import { createCache as createCacheManager } from "cache-manager"
import { Cacheable, CacheableMemory } from "cacheable"
import { Effect, Exit, Schema, Scope } from "effect"
import Keyv from "keyv"

/** The value every workload caches: a ~1 KB user. */
export const UserSchema = Schema.Struct({
  id: Schema.Int,
  name: Schema.String,
  email: Schema.String,
  plan: Schema.String,
  bio: Schema.String,
  tags: Schema.Array(Schema.String),
})
export type User = typeof UserSchema.Type

export const Users = Keyspace.make({
  name: "bench.user",
  key: Schema.Struct({ userId: Schema.Int }),
  value: UserSchema,
  ttl: "1 hour",
})
export const Labels = Keyspace.make({
  name: "bench.label",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.String,
  ttl: "1 hour",
})

/** A Strata cache built in its own scope, over Redis when `redisUrl` is given. */
export interface StrataSystem {
  readonly cache: Cache.Service
  readonly store: RedisStore.Service | undefined
  readonly bus: RedisBus.Service | undefined
  readonly close: () => Promise<void>
}

export const strata = async (
  options: Cache.Options & {
    readonly redisUrl?: string
    readonly prefix?: string
    readonly bus?: boolean
  } = {},
): Promise<StrataSystem> => {
  const scope = Effect.runSync(Scope.make())
  const { redisUrl, prefix, bus: withBus = true, ...cacheOptions } = options
  const built = await Effect.runPromise(
    Scope.provide(
      Effect.gen(function* () {
        const store =
          redisUrl === undefined
            ? undefined
            : yield* RedisStore.make({ url: redisUrl, prefix: prefix ?? "bench:" })
        const bus =
          redisUrl === undefined || !withBus
            ? undefined
            : yield* RedisBus.make({ url: redisUrl, channel: `${prefix ?? "bench:"}bus` })
        const cache = yield* Cache.make({ metricsIntervalMillis: 60_000, ...cacheOptions }, store, bus)
        return { cache, store, bus }
      }),
      scope,
    ),
  )
  return { ...built, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** Strata's Promise facade over Redis (or in memory). */
export const strataFacade = (redisUrl?: string, prefix = "bench:"): Promise<StrataCache> =>
  createStrata(
    redisUrl === undefined
      ? { l1: { maxEntries: 200_000 } }
      : {
          l1: { maxEntries: 200_000 },
          l2: RedisStore.layer({ url: redisUrl, prefix }),
          bus: RedisBus.layer({ url: redisUrl, channel: `${prefix}bus` }),
        },
  )

/** The common surface of the peers, for the workloads that compare them. */
export interface Peer {
  readonly name: string
  /** The configuration, as the docs page states it. */
  readonly config: string
  readonly get: (key: string) => Promise<unknown>
  readonly set: (key: string, value: unknown) => Promise<unknown>
  readonly getOrSet: (key: string, load: () => Promise<unknown>) => Promise<unknown>
  readonly close: () => Promise<void>
}

export const peerConfigs = {
  bentocache:
    'new BentoCache({ default: "tiered", stores: { tiered: bentostore().useL1Layer(memoryDriver({ maxSize: "100mb", maxItems: 200_000 })).useL2Layer(redisDriver({ connection })).useBus(redisBusDriver({ connection })) } }); get/set/getOrSet with ttl "1h"',
  "cache-manager":
    "createCache({ stores: [new Keyv({ store: new CacheableMemory({ lruSize: 200000 }) }), new Keyv({ store: new KeyvRedis(url) })] }); get/set, wrap() for getOrSet, ttl 1 h",
  cacheable:
    "new Cacheable({ primary: new Keyv({ store: new CacheableMemory({ lruSize: 200000 }) }), secondary: new Keyv({ store: new KeyvRedis(url) }) }); get/set, getOrSet(), ttl 1 h",
} as const

const HOUR = 3_600_000

export const bentocache = (redisPort: number): Peer => {
  const connection = { host: "127.0.0.1", port: redisPort }
  const bento = new BentoCache({
    default: "tiered",
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxSize: "100mb", maxItems: 200_000 }))
        .useL2Layer(redisDriver({ connection }))
        .useBus(redisBusDriver({ connection })),
    },
  })
  return {
    name: "bentocache",
    config: peerConfigs.bentocache,
    get: (key) => bento.get({ key }),
    set: (key, value) => bento.set({ key, value, ttl: "1h" }),
    getOrSet: (key, load) => bento.getOrSet({ key, factory: load, ttl: "1h" }),
    close: () => bento.disconnect(),
  }
}

export const cacheManager = (redisUrl: string): Peer => {
  const cache = createCacheManager({
    stores: [
      new Keyv({ store: new CacheableMemory({ lruSize: 200_000 }) }),
      new Keyv({ store: new KeyvRedis(redisUrl) }),
    ],
  })
  return {
    name: "cache-manager",
    config: peerConfigs["cache-manager"],
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value, HOUR),
    getOrSet: (key, load) => cache.wrap(key, load, HOUR),
    close: async () => {
      await cache.disconnect()
    },
  }
}

export const cacheable = (redisUrl: string): Peer => {
  const cache = new Cacheable({
    primary: new Keyv({ store: new CacheableMemory({ lruSize: 200_000 }) }),
    secondary: new Keyv({ store: new KeyvRedis(redisUrl) }),
  })
  return {
    name: "cacheable",
    config: peerConfigs.cacheable,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value, HOUR),
    getOrSet: (key, load) => cache.getOrSet(key, load, { ttl: HOUR, throwErrors: true }),
    close: () => cache.disconnect(),
  }
}
