import { createCache, Keyspace, type StoreFailed } from "@strata/core"
import { createCacheAside } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

const Profiles = Keyspace.make({
  name: "app.tolerant.profile",
  key: Schema.Int,
  value: Schema.Struct({ name: Schema.String }),
  ttl: "10 minutes",
})

/** A request handler's write path against L1 + Redis; `outage` takes Redis down midway. */
export const main = async (redisUrl: string, outage: () => Promise<void>) => {
  const database = new Map<number, { name: string }>()
  const cache = await createCache({
    l2: RedisStore.layer({ url: redisUrl, prefix: "sample-aside:" }),
    bus: RedisBus.layer({ url: redisUrl, channel: "sample-aside:bus" }),
  })
  const warnings: Array<string> = []
  // #region tolerant
  const aside = createCacheAside(cache, {
    // Every tolerated failure lands here (core's StoreFailed event): log it, count it.
    onStoreError: (event: StoreFailed) => warnings.push(`${event.operation}: ${event.error._tag}`),
  })

  /** Saves a profile: the database is the truth; the cache write may fail without failing the request. */
  const saveProfile = async (id: number, profile: { name: string }) => {
    database.set(id, profile)
    const cached = await aside.set(Profiles, id, profile) // false when the cache is down: never throws
    return { saved: true, cached }
  }
  // #endregion tolerant
  const before = await saveProfile(1, { name: "Ada" })
  await outage()
  const during = await saveProfile(1, { name: "Ada Lovelace" })
  const read = await cache.keyspace(Profiles).get(1) // a miss, not an error: the caller reads the database
  await cache.close()
  return { before, during, read, database: database.get(1), warnings }
}
