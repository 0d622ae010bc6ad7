import { Cache, Keyspace } from "@strata/core"
import { RedisStore } from "@strata/redis"
import { Effect, Option, Schema } from "effect"

const Sessions = Keyspace.make({
  name: "app.session",
  key: Schema.String,
  value: Schema.Struct({ userId: Schema.Int, roles: Schema.Array(Schema.String) }),
  ttl: "30 minutes",
})

export const program = Effect.gen(function* () {
  const cache = yield* Cache.Cache
  yield* cache.set(Sessions, "s-1", { userId: 7, roles: ["admin"] })
  return yield* cache.get(Sessions, "s-1")
})

// L1 in front of Redis. Standalone by URL; `redis: { sentinels, name }` for Sentinel;
// `cluster: { nodes }` for a Cluster. Offline queue and command re-sending are always off.
export const main = (url: string) =>
  Effect.runPromise(
    program.pipe(
      Effect.map(Option.getOrUndefined),
      Effect.provide(
        Cache.layer({ l2: RedisStore.layer({ url, prefix: "docs:", commandTimeoutMillis: 500 }) }),
      ),
    ),
  )
