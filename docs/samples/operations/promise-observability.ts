import { createCache, Keyspace, MemoryStore, type PinoLike } from "@strata/core"
import { Schema } from "effect"

const Orders = Keyspace.make({
  name: "shop.order",
  key: Schema.Int,
  value: Schema.Struct({ id: Schema.Int, status: Schema.String }),
  ttl: "5 minutes",
})

export const main = async (otlpUrl: string, logger: PinoLike) => {
  // #region promise
  // `logger` takes pino (or anything with its shape); `otlp` an OTLP/HTTP traces endpoint.
  const cache = await createCache({
    name: "shop",
    l2: MemoryStore.layer(),
    logger,
    otlp: { url: otlpUrl, serviceName: "shop" },
  })
  const orders = cache.keyspace(Orders)
  const order = await orders.getOrSet(1001, async (id) => ({ id, status: "paid" }))
  // Every event is logged too: here a stale value served while the database is down (info),
  // and a listener that throws (warn).
  cache.on(() => {
    throw new Error("a listener's bug")
  })
  await orders.set(1002, { id: 1002, status: "shipped" }, { ttl: 1, staleFor: "1 minute" })
  await new Promise((resolve) => setTimeout(resolve, 5))
  await orders.getOrSet(1002, async () => {
    throw new Error("the database is down")
  })
  await cache.close() // flushes the spans
  // #endregion promise
  return order
}
