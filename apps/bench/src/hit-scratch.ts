import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

const Users = Keyspace.make({
  name: "user",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String, email: Schema.String, bio: Schema.String }),
  ttl: "1 hour",
})
const N = 8000
const cache = await createCache({ l1: { maxEntries: 20000 } })
const users = cache.keyspace(Users)
const map = new Map<string, { value: unknown; expiresAt: number }>()
for (let i = 0; i < N; i++) {
  const v = { name: `user ${i}`, email: `u${i}@x.io`, bio: "x".repeat(900) }
  await users.set({ userId: i }, v)
  map.set(`user:v1:userId=${i}`, { value: v, expiresAt: Date.now() + 3600_000 })
}
const now = performance.now()
const ITER = 2_000_000
const bench = (name: string, f: (i: number) => unknown) => {
  let sink = 0
  for (let i = 0; i < 200_000; i++) if (f(i % N)) sink++
  const t0 = performance.now()
  for (let i = 0; i < ITER; i++) if (f(i % N)) sink++
  const ns = ((performance.now() - t0) * 1e6) / ITER
  console.log(name.padEnd(40), ns.toFixed(1), "ns/op", sink > 0 ? "" : "!")
  return ns
}
const clockNow = Date.now()
const a = bench("Map.get + expiry (key built per call)", (i) => {
  const e = map.get(`user:v1:userId=${i}`)
  return e !== undefined && e.expiresAt > clockNow ? e.value : undefined
})
const b = bench("facade peek (sync)", (i) => users.peek({ userId: i }))
console.log("ratio peek/map", (b / a).toFixed(2))
// async
const benchAsync = async (name: string, f: (i: number) => Promise<unknown>) => {
  const it = 500_000
  for (let i = 0; i < 50_000; i++) await f(i % N)
  const t0 = performance.now()
  for (let i = 0; i < it; i++) await f(i % N)
  const ns = ((performance.now() - t0) * 1e6) / it
  console.log(name.padEnd(40), ns.toFixed(1), "ns/op")
  return ns
}
const c = await benchAsync("await Promise.resolve(Map.get)", (i) => {
  const e = map.get(`user:v1:userId=${i}`)
  return Promise.resolve(e !== undefined && e.expiresAt > clockNow ? e.value : undefined)
})
const d = await benchAsync("await facade get", (i) => users.get({ userId: i }))
console.log("ratio get/await-map", (d / c).toFixed(2))
await cache.close()
