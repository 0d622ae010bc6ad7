import { CacheClosed, createCache, Keyspace } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

const Tokens = Keyspace.make({
  name: "auth.token",
  key: Schema.String,
  value: Schema.String,
  ttl: "10 minutes",
})

export const main = async (url: string) => {
  // #region using
  // `await using` closes the cache when the block ends, even when it throws.
  {
    await using cache = await createCache({ l2: RedisStore.layer({ url }), bus: RedisBus.layer({ url }) })
    await cache.keyspace(Tokens).set("t-1", "alice")
  }
  // #endregion using

  // #region close
  const cache = await createCache({ l2: RedisStore.layer({ url }), bus: RedisBus.layer({ url }) })
  const tokens = cache.keyspace(Tokens)
  const owner = await tokens.get("t-1")
  // On shutdown (SIGTERM, the end of a script or a test): connections and timers are released.
  await cache.close()
  // #endregion close

  const afterClose = await tokens.get("t-1").then(
    () => "answered",
    (error: unknown) => (error instanceof CacheClosed ? error._tag : String(error)),
  )
  return { owner, afterClose }
}
