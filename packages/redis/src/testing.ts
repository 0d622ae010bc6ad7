/**
 * `@strata/redis/testing`: the raw connections behind a store and a bus, for
 * tests that inject faults (kill a subscriber, write foreign bytes). Not for
 * application code: writing through them bypasses versions, deadlines and
 * invalidation.
 *
 * @since 0.1.0
 */
import type { Redis } from "ioredis"
import type { Client } from "./internal/connection.ts"
import { busSubscribers, storeClients } from "./internal/registry.ts"
import type * as RedisBus from "./RedisBus.ts"
import type * as RedisStore from "./RedisStore.ts"

/** The ioredis client of a store made by `RedisStore.make`; throws for anything else. */
export const clientOf = (store: RedisStore.Service): Client => {
  const client = storeClients.get(store)
  if (client === undefined) throw new Error("clientOf: not a store made by RedisStore.make")
  return client
}

/** The subscriber connection a bus made by `RedisBus.make` uses now (it is replaced after a dead link). */
export const subscriberOf = (bus: RedisBus.Service): Redis => {
  const subscriber = busSubscribers.get(bus)
  if (subscriber === undefined) throw new Error("subscriberOf: not a bus made by RedisBus.make")
  return subscriber()
}
