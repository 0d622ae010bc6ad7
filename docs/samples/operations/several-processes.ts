import { createCache, Keyspace } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

const Stock = Keyspace.make({
  name: "shop.stock",
  key: Schema.Struct({ sku: Schema.String }),
  value: Schema.Int,
  ttl: "1 hour",
})

// #region node
// What every process (every web server, worker, cron job) builds at startup: its own L1,
// the shared Redis tier, and the bus that carries invalidations between their L1s.
export const startNode = (url: string) =>
  createCache({
    name: "shop",
    l2: RedisStore.layer({ url, prefix: "shop:" }),
    bus: RedisBus.layer({ url, channel: "shop:bus" }),
  })
// #endregion node

/** Two nodes: B caches a count in its L1, A changes it; returns B's reads and how long B took to see it. */
export const main = async (url: string) => {
  const a = await startNode(url)
  const b = await startNode(url)
  try {
    const stockA = a.keyspace(Stock)
    const stockB = b.keyspace(Stock)
    await stockA.set({ sku: "tea-01" }, 12)
    const before = await stockB.get({ sku: "tea-01" }) // now in B's L1 too
    await stockA.set({ sku: "tea-01" }, 11)
    const written = Date.now()
    let after = await stockB.get({ sku: "tea-01" })
    while (after !== 11 && Date.now() - written < 2_000) {
      await new Promise((resolve) => setTimeout(resolve, 1))
      after = await stockB.get({ sku: "tea-01" })
    }
    return { before, after, seenWithinMillis: Date.now() - written }
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}
