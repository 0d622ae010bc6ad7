import { createCache, Keyspace } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

const Flags = Keyspace.make({
  name: "app.flag",
  key: Schema.String,
  value: Schema.Boolean,
  ttl: "1 minute",
})

export interface Secured {
  readonly host: string
  readonly port: number
  /** The CA certificate that signed the server's certificate (PEM). */
  readonly ca: string
  readonly username: string
  readonly password: string
}

// #region secured
// TLS and an ACL user: ioredis options pass through under `redis`, for the store and the bus alike.
export const securedCache = ({ host, port, ca, username, password }: Secured) => {
  const redis = { redis: { host, port, username, password, tls: { ca, servername: "localhost" } } }
  return createCache({ l2: RedisStore.layer(redis), bus: RedisBus.layer(redis) })
}
// #endregion secured

export const main = async (options: Secured) => {
  const cache = await securedCache(options)
  try {
    const flags = cache.keyspace(Flags)
    await flags.set("new-checkout", true)
    return await flags.get("new-checkout")
  } finally {
    await cache.close()
  }
}
