/**
 * Throughput of the tiered cache (L1 over RedisStore, kept coherent by
 * RedisBus) on the L1-hit and L2-hit paths, against raw ioredis `getBuffer` +
 * msgpack decode on the same server, in one process run, interleaved rounds,
 * median. Values are ~1 KB objects. Starts its own redis-server.
 *
 *   pnpm --filter @strata/bench tiered
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { Cache, Keyspace, Msgpack } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Effect, Exit, Option, Schema, Scope } from "effect"
import { Redis } from "ioredis"

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const KEYS = 8_000
const User = Schema.Struct({ name: Schema.String, email: Schema.String, bio: Schema.String })
const Users = Keyspace.make({
  name: "bench.user",
  key: Schema.Struct({ userId: Schema.Int }),
  value: User,
  ttl: "1 hour",
})
const user = (i: number) => ({ name: `user ${i}`, email: `user${i}@example.com`, bio: "x".repeat(960) })

const server = await RedisHarness.startRedis()
const scope = Effect.runSync(Scope.make())
const { tiered, l2only } = await Effect.runPromise(
  Scope.provide(
    Effect.gen(function* () {
      const redis = { url: server.url, prefix: "bench:" }
      const store = yield* RedisStore.make(redis)
      const bus = yield* RedisBus.make({ url: server.url })
      const tiered = yield* Cache.make({ l1: { maxEntries: KEYS * 2 } }, store, bus)
      const l2only = yield* Cache.make({ l1: false }, store, bus)
      return { tiered, l2only }
    }),
    scope,
  ),
)
const raw = new Redis(server.port, "127.0.0.1", { enableAutoPipelining: true })
for (let i = 0; i < KEYS; i++) {
  await Effect.runPromise(tiered.set(Users, { userId: i }, user(i)))
  await raw.set(`raw:${i}`, Buffer.from(Msgpack.pack(user(i))))
}
for (let i = 0; i < KEYS; i++) await Effect.runPromise(tiered.get(Users, { userId: i }))

const opsPerSecond = async (ops: number, inFlight: number, f: (i: number) => Promise<unknown> | unknown) => {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < ops) await f(next++ % KEYS)
    }),
  )
  return ops / ((performance.now() - started) / 1000)
}
const syncOpsPerSecond = (ops: number, f: (i: number) => unknown) => {
  const started = performance.now()
  for (let i = 0; i < ops; i++) if (f(i % KEYS) === undefined) throw new Error("miss")
  return ops / ((performance.now() - started) / 1000)
}

const cases: Array<{ name: string; strata: () => Promise<number> | number; raw: () => Promise<number> }> = [
  {
    name: "L1 hit, sync peek",
    strata: () => syncOpsPerSecond(2_000_000, (i) => tiered.peekUnsafe(Users, { userId: i })),
    raw: () => opsPerSecond(20_000, 256, async (i) => Msgpack.unpack((await raw.getBuffer(`raw:${i}`))!)),
  },
  {
    name: "L1 hit, Effect get (one caller)",
    strata: () => opsPerSecond(300_000, 1, (i) => Effect.runPromise(tiered.get(Users, { userId: i }))),
    raw: () => opsPerSecond(20_000, 1, async (i) => Msgpack.unpack((await raw.getBuffer(`raw:${i}`))!)),
  },
  {
    name: "L2 hit, one caller",
    strata: () =>
      opsPerSecond(20_000, 1, async (i) =>
        Option.getOrThrow(await Effect.runPromise(l2only.get(Users, { userId: i }))),
      ),
    raw: () => opsPerSecond(20_000, 1, async (i) => Msgpack.unpack((await raw.getBuffer(`raw:${i}`))!)),
  },
  {
    name: "L2 hit, 256 in flight",
    strata: () =>
      opsPerSecond(40_000, 256, async (i) =>
        Option.getOrThrow(await Effect.runPromise(l2only.get(Users, { userId: i }))),
      ),
    raw: () => opsPerSecond(40_000, 256, async (i) => Msgpack.unpack((await raw.getBuffer(`raw:${i}`))!)),
  },
]

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const results = []
for (const c of cases) {
  await c.strata()
  await c.raw()
  const a: Array<number> = []
  const b: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    a.push(await c.strata())
    b.push(await c.raw())
  }
  const row = {
    case: c.name,
    strata_ops_per_s: Math.round(median(a)),
    raw_ioredis_get_unpack_ops_per_s: Math.round(median(b)),
  }
  results.push(row)
  console.log(
    `${row.case.padEnd(34)} strata ${String(row.strata_ops_per_s).padStart(9)} ops/s   raw getBuffer+unpack ${String(row.raw_ioredis_get_unpack_ops_per_s).padStart(7)} ops/s`,
  )
}
raw.disconnect()
await Effect.runPromise(Scope.close(scope, Exit.void))
await RedisHarness.stopAll([server])
mkdirSync(new URL("../results/", import.meta.url), { recursive: true })
writeFileSync(
  new URL("../results/tiered.json", import.meta.url),
  `${JSON.stringify({ node: process.version, redis: RedisHarness.requireRedisServer(), rounds: ROUNDS, results }, null, 2)}\n`,
)
