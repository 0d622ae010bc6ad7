/**
 * L2 get/set throughput of RedisStore against raw ioredis GET/SET on the same
 * server, in one process run, interleaved A/B rounds, median of the rounds.
 * Values are ~1 KB. Starts its own redis-server (loopback, no persistence).
 *
 *   pnpm --filter @strata/bench l2-throughput
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Effect, Exit, Scope } from "effect"
import { Redis } from "ioredis"

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const OPS = Number(process.env.OPS ?? 20_000)
const KEYS = 1_000
const value = Buffer.alloc(1024, 7)

const server = await RedisHarness.startRedis()
const scope = Effect.runSync(Scope.make())
const store = await Effect.runPromise(
  Scope.provide(RedisStore.make({ url: server.url, prefix: "bench:" }), scope),
)
const raw = new Redis(server.port, "127.0.0.1", { enableAutoPipelining: true })
const space = "bench.user:v1"
const generation = 0
const rawKey = (i: number) => `raw:${i}`
for (let i = 0; i < KEYS; i++) {
  await Effect.runPromise(store.set(space, `k${i}`, value, 600_000))
  await raw.set(rawKey(i), value, "PX", 600_000)
}
void generation

/** ops/s for `ops` calls of `f`, `inFlight` at a time. */
const throughput = async (inFlight: number, f: (i: number) => Promise<unknown>) => {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < OPS) await f(next++ % KEYS)
    }),
  )
  return OPS / ((performance.now() - started) / 1000)
}

const strataGet = (i: number) => Effect.runPromise(store.get(space, `k${i}`))
const rawGet = (i: number) => raw.getBuffer(rawKey(i))
const strataSet = (i: number) => Effect.runPromise(store.set(space, `k${i}`, value, 600_000))
const rawSet = (i: number) => raw.set(rawKey(i), value, "PX", 600_000)
// The same raw command run as an Effect, to tell Effect's per-call cost apart from the store's own.
const inEffect = (f: (i: number) => Promise<unknown>) => (i: number) =>
  Effect.runPromise(Effect.promise(() => f(i)))
const cases = [
  { op: "get", inFlight: 1, strata: strataGet, raw: rawGet },
  { op: "get", inFlight: 256, strata: strataGet, raw: rawGet },
  { op: "set", inFlight: 1, strata: strataSet, raw: rawSet },
  { op: "set", inFlight: 256, strata: strataSet, raw: rawSet },
]

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const results = []
for (const c of cases) {
  await throughput(c.inFlight, c.strata)
  await throughput(c.inFlight, c.raw)
  const a: Array<number> = []
  const b: Array<number> = []
  const e: Array<number> = []
  const rawInEffect = inEffect(c.raw)
  for (let round = 0; round < ROUNDS; round++) {
    a.push(await throughput(c.inFlight, c.strata))
    b.push(await throughput(c.inFlight, c.raw))
    e.push(await throughput(c.inFlight, rawInEffect))
  }
  const row = {
    op: c.op,
    in_flight: c.inFlight,
    strata_ops_per_s: Math.round(median(a)),
    raw_ops_per_s: Math.round(median(b)),
    raw_in_effect_ops_per_s: Math.round(median(e)),
    ratio: Number((median(a) / median(b)).toFixed(2)),
  }
  results.push(row)
  console.log(
    `${row.op} x${String(row.in_flight).padEnd(4)} RedisStore ${String(row.strata_ops_per_s).padStart(7)} ops/s   raw ioredis ${String(row.raw_ops_per_s).padStart(7)} ops/s (${String(row.raw_in_effect_ops_per_s).padStart(7)} run as an Effect)   ratio ${row.ratio}`,
  )
}
raw.disconnect()
await Effect.runPromise(Scope.close(scope, Exit.void))
await RedisHarness.stopAll([server])
mkdirSync(new URL("../results/", import.meta.url), { recursive: true })
writeFileSync(
  new URL("../results/l2-throughput.json", import.meta.url),
  `${JSON.stringify({ node: process.version, redis: RedisHarness.requireRedisServer(), rounds: ROUNDS, ops: OPS, value_bytes: value.length, results }, null, 2)}\n`,
)
