/**
 * What an L1 hit costs through Strata's three entry points, against the floor
 * of a bare `Map` read of the same key, measured in one process run,
 * interleaved A/B/A/B, median of the rounds. Keys are built per call on both
 * sides; values are ~1 KB objects; 8,000 hot keys.
 *
 *   pnpm --filter @strata/bench l1-hit
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { createCache, Keyspace } from "@strata/core"
import { Effect, Schema } from "effect"

const User = Schema.Struct({ name: Schema.String, email: Schema.String, bio: Schema.String })
const Users = Keyspace.make({
  name: "user",
  key: Schema.Struct({ userId: Schema.Int }),
  value: User,
  ttl: "1 hour",
})
const KEYS = 8_000
const ROUNDS = Number(process.env.ROUNDS ?? 7)
const SYNC_OPS = 2_000_000
const ASYNC_OPS = 300_000

const cache = await createCache({ l1: { maxEntries: KEYS * 2 } })
const users = cache.keyspace(Users)
const floor = new Map<string, { value: unknown; expiresAt: number }>()
for (let i = 0; i < KEYS; i++) {
  const user = { name: `user ${i}`, email: `user${i}@example.com`, bio: "x".repeat(960) }
  await users.set({ userId: i }, user)
  floor.set(`user:v1:userId=${i}`, { value: user, expiresAt: Date.now() + 3_600_000 })
}
const cachedNow = Date.now()
const mapRead = (i: number) => {
  const entry = floor.get(`user:v1:userId=${i}`)
  return entry !== undefined && entry.expiresAt > cachedNow ? entry.value : undefined
}

const timeSync = (f: (i: number) => unknown) => {
  let found = 0
  const started = performance.now()
  for (let i = 0; i < SYNC_OPS; i++) if (f(i % KEYS) !== undefined) found++
  if (found !== SYNC_OPS) throw new Error("a read missed")
  return ((performance.now() - started) * 1e6) / SYNC_OPS
}
const timeAsync = async (f: (i: number) => Promise<unknown>) => {
  let found = 0
  const started = performance.now()
  for (let i = 0; i < ASYNC_OPS; i++) if ((await f(i % KEYS)) !== undefined) found++
  if (found !== ASYNC_OPS) throw new Error("a read missed")
  return ((performance.now() - started) * 1e6) / ASYNC_OPS
}
const timeEffect = (f: (i: number) => Effect.Effect<unknown, unknown>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      let found = 0
      const started = performance.now()
      for (let i = 0; i < ASYNC_OPS; i++) if ((yield* f(i % KEYS)) !== undefined) found++
      if (found !== ASYNC_OPS) throw new Error("a read missed")
      return ((performance.now() - started) * 1e6) / ASYNC_OPS
    }),
  )

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

interface Pair {
  readonly id: string
  readonly name: string
  readonly candidate: () => Promise<number> | number
  readonly baseline: () => Promise<number> | number
  readonly baselineName: string
}

const service = cache.service
const pairs: Array<Pair> = [
  {
    id: "W1",
    name: "L1 hit, synchronous (peek)",
    candidate: () => timeSync((i) => users.peek({ userId: i })),
    baseline: () => timeSync(mapRead),
    baselineName: "Map.get + expiry check on a cached clock",
  },
  {
    id: "W2",
    name: "L1 hit, Effect API inside a running fiber",
    candidate: () =>
      timeEffect((i) =>
        service.get(Users, { userId: i }).pipe(Effect.map((o) => (o._tag === "Some" ? o.value : undefined))),
      ),
    baseline: () => timeEffect((i) => Effect.sync(() => mapRead(i))),
    baselineName: "yield* Effect.sync(() => map.get(k))",
  },
  {
    id: "W3",
    name: "L1 hit, Promise facade (await get)",
    candidate: () => timeAsync((i) => users.get({ userId: i })),
    baseline: () => timeAsync((i) => Promise.resolve(mapRead(i))),
    baselineName: "await Promise.resolve(map.get(k))",
  },
]

const results = []
for (const pair of pairs) {
  // Warm up both sides, then interleave A/B rounds so drift hits both alike.
  await pair.candidate()
  await pair.baseline()
  const a: Array<number> = []
  const b: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    a.push(await pair.candidate())
    b.push(await pair.baseline())
  }
  const row = {
    id: pair.id,
    name: pair.name,
    strata_ns: Number(median(a).toFixed(1)),
    baseline: pair.baselineName,
    baseline_ns: Number(median(b).toFixed(1)),
    ratio: Number((median(a) / median(b)).toFixed(2)),
  }
  results.push(row)
  console.log(
    `${row.id} ${row.name.padEnd(44)} strata ${String(row.strata_ns).padStart(7)} ns   floor ${String(row.baseline_ns).padStart(7)} ns   ratio ${row.ratio}`,
  )
}
await cache.close()
mkdirSync(new URL("../results/", import.meta.url), { recursive: true })
writeFileSync(
  new URL("../results/l1-hit.json", import.meta.url),
  `${JSON.stringify({ node: process.version, rounds: ROUNDS, keys: KEYS, results }, null, 2)}\n`,
)
