import { Cache, Keyspace } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Effect, type Layer, Option, Schema } from "effect"

const Sessions = Keyspace.make({
  name: "app.session",
  key: Schema.String,
  value: Schema.Struct({ userId: Schema.Int }),
  ttl: "30 minutes",
})

// #region standalone
// One server (or a managed endpoint), by URL: redis://user:password@host:6379/0, rediss:// for TLS.
export const standalone = (url: string) => {
  const redis = { url, prefix: "shop:" }
  return Cache.layer({ l2: RedisStore.layer(redis), bus: RedisBus.layer({ url }) })
}
// #endregion standalone

// #region sentinel
// A Sentinel set: the Sentinels' addresses and the name of the master they watch.
// ioredis asks the Sentinels for the master and follows failovers.
export const sentinel = (sentinels: ReadonlyArray<{ host: string; port: number }>, name: string) => {
  const redis = { redis: { sentinels: [...sentinels], name } }
  return Cache.layer({ l2: RedisStore.layer(redis), bus: RedisBus.layer(redis) })
}
// #endregion sentinel

// #region cluster
// A Cluster: some of its nodes; ioredis discovers the rest. The bus uses sharded pub/sub.
export const cluster = (nodes: ReadonlyArray<{ host: string; port: number }>) => {
  const redis = { cluster: { nodes } }
  return Cache.layer({ l2: RedisStore.layer(redis), bus: RedisBus.layer(redis) })
}
// #endregion cluster

/** A write and a read through whichever deployment the layer connects to. */
export const program = Effect.gen(function* () {
  const cache = yield* Cache.Cache
  yield* cache.set(Sessions, "s-42", { userId: 42 })
  return Option.getOrUndefined(yield* cache.get(Sessions, "s-42"))
})

export const run = (layer: Layer.Layer<Cache.Cache, unknown>) =>
  Effect.runPromise(program.pipe(Effect.provide(layer)))
