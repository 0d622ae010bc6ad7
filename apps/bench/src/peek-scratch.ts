import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

const Users = Keyspace.make({
  name: "user",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String }),
  ttl: "1 hour",
})
const cache = await createCache({ l1: { maxEntries: 20000 } })
const users = cache.keyspace(Users)
for (let i = 0; i < 8000; i++) await users.set({ userId: i }, { name: `u${i}` })
let sink = 0
const t0 = performance.now()
for (let i = 0; i < 5_000_000; i++) if (users.peek({ userId: i % 8000 })) sink++
console.log((((performance.now() - t0) * 1e6) / 5_000_000).toFixed(1), "ns", sink)
const t1 = performance.now()
for (let i = 0; i < 5_000_000; i++) if (Users.storeKey({ userId: i % 8000 })) sink++
console.log("storeKey", (((performance.now() - t1) * 1e6) / 5_000_000).toFixed(1), "ns", sink)
await cache.close()
