import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

const Users = Keyspace.make({
  name: "exp.user",
  key: Schema.Number,
  value: Schema.Struct({ name: Schema.String }),
  ttl: "1 minute",
})
const cache = await createCache({})
const users = cache.keyspace(Users)
for (let round = 0; round < 8; round++) {
  let loaderEnd = 0
  const start = performance.now()
  const calls = Array.from({ length: 2500 }, () =>
    users.getOrSet(round, async () => {
      await new Promise((r) => setTimeout(r, 50))
      loaderEnd = performance.now()
      return { name: "x" }
    }),
  )
  const issued = performance.now()
  await Promise.all(calls)
  const done = performance.now()
  console.log(`issue ${(issued - start).toFixed(1)} ms, after loader ${(done - loaderEnd).toFixed(1)} ms`)
}
await cache.close()
