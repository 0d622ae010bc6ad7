/** W5–W7, W13, W14: the shared-tier paths against raw ioredis on the same server. */
import { execFileSync } from "node:child_process"
import { Entry, Msgpack } from "@strata/core"
import { Effect, Option, Result } from "effect"
import { Redis } from "ioredis"
import {
  interleave,
  interleaveLatencies,
  latencies,
  median,
  percentile,
  throughput,
  user,
} from "../measure.ts"
import { meets, round } from "../report.ts"
import { strata, Users } from "../systems.ts"
import type { Context, Workload } from "../workload.ts"
import { result } from "./l1.ts"

const KEYS = 10_000

/** A tiered cache whose L1 holds one entry, so every read is an L1 miss, an L2 GET, a decode and a fill. */
const setup = async ({ redis, prefix }: Context) => {
  const system = await strata({ redisUrl: redis.url, prefix, l1: { maxEntries: 1 } })
  const raw = new Redis(redis.port, "127.0.0.1", { enableAutoPipelining: true })
  for (let i = 0; i < KEYS; i++) {
    await Effect.runPromise(system.cache.set(Users, { userId: i }, user(i)))
    await raw.set(`${prefix}raw:${i}`, Buffer.from(Msgpack.pack(user(i))))
  }
  const strataGet = (i: number) =>
    Effect.runPromise(system.cache.get(Users, { userId: i % KEYS })).then((found) => {
      if (Option.isNone(found)) throw new Error("missed")
      return found.value
    })
  const rawGet = async (i: number) => Msgpack.unpack((await raw.getBuffer(`${prefix}raw:${i % KEYS}`))!)
  const close = async () => {
    raw.disconnect()
    await system.close()
  }
  return { system, raw, strataGet, rawGet, close }
}

export const W5: Workload = {
  id: "W5",
  name: "L2 hit, one caller (L1 miss → GET → decode → fill)",
  run: async (context) => {
    const { strataGet, rawGet, close } = await setup(context)
    const ops = context.scale(4_000, 1_000)
    const samples = await interleaveLatencies(context.rounds, {
      strata: () => latencies(ops, strataGet),
      raw: () => latencies(ops, rawGet),
      rawInEffect: () => latencies(ops, (i) => Effect.runPromise(Effect.promise(() => rawGet(i)))),
    })
    await close()
    const rows = (system: string, values: Array<number>) => [
      { system, metric: "p50_us", value: percentile(values, 50) },
      { system, metric: "p99_us", value: percentile(values, 99) },
      { system, metric: "p99.9_us", value: percentile(values, 99.9) },
    ]
    const p50 = percentile(samples.strata, 50) / percentile(samples.raw, 50)
    const p99 = percentile(samples.strata, 99) / percentile(samples.raw, 99)
    return {
      ...result(
        "W5",
        W5.name,
        "<= 1.2",
        "strata p50 / raw getBuffer + unpack p50",
        "raw-ioredis",
        [...rows("strata", samples.strata), ...rows("raw-ioredis", samples.raw)],
        p50,
      ),
      target: "p50 <= 1.2, p99 <= 1.5",
      met: meets(p50, "<= 1.2") && meets(p99, "<= 1.5"),
      notes: `p99 ratio ${round(p99)} (target <= 1.5)`,
    }
  },
}

/** Requests per second of `redis-benchmark -t get -P 16` with 1 KB values on the same server. */
const redisBenchmark = (port: number, quick: boolean): number | undefined => {
  try {
    const out = execFileSync(
      "redis-benchmark",
      [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-t",
        "get",
        "-P",
        "16",
        "-d",
        "1024",
        "-n",
        quick ? "50000" : "400000",
        "-q",
      ],
      { encoding: "utf8", timeout: 60_000 },
    )
    const match = /GET: ([\d.]+) requests per second/.exec(out)
    return match === null ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

export const W6: Workload = {
  id: "W6",
  name: "L2 hit throughput, 256 callers in flight",
  run: async (context) => {
    const { strataGet, rawGet, close } = await setup(context)
    const ops = context.scale(60_000, 10_000)
    const samples = await interleave(context.rounds, {
      strata: () => throughput(ops, 256, strataGet),
      raw: () => throughput(ops, 256, rawGet),
      // The raw read run as an Effect: what any Effect-based API pays per call before doing anything.
      rawInEffect: () => throughput(ops, 256, (i) => Effect.runPromise(Effect.promise(() => rawGet(i)))),
    })
    await close()
    const s = median(samples.strata)
    const r = median(samples.raw)
    const rb = redisBenchmark(context.redis.port, context.quick)
    return result(
      "W6",
      W6.name,
      ">= 0.8",
      "strata ops/s / raw auto-pipelined getBuffer + unpack ops/s",
      "raw-ioredis",
      [
        { system: "strata", metric: "ops_per_s", value: s },
        { system: "raw-ioredis", metric: "ops_per_s", value: r },
        { system: "raw-ioredis-in-effect", metric: "ops_per_s", value: median(samples.rawInEffect) },
        ...(rb === undefined ? [] : [{ system: "redis-benchmark -P 16", metric: "ops_per_s", value: rb }]),
      ],
      s / r,
      `raw ioredis run through Effect.runPromise reaches ${round(median(samples.rawInEffect) / r)} of raw`,
    )
  },
}

export const W7: Workload = {
  id: "W7",
  name: "batched L2 read (getMany of 100)",
  run: async (context) => {
    const { system, raw, close } = await setup(context)
    const batches = context.scale(400, 100)
    const keysOf = (b: number) => Array.from({ length: 100 }, (_, i) => (b * 100 + i) % KEYS)
    const samples = await interleave(context.rounds, {
      strata: () =>
        throughput(batches, 8, async (b) => {
          const found = await Effect.runPromise(
            system.cache.getMany(
              Users,
              keysOf(b).map((userId) => ({ userId })),
            ),
          )
          if (found.some(Option.isNone)) throw new Error("missed")
        }).then((batchesPerSecond) => batchesPerSecond * 100),
      raw: () =>
        throughput(batches, 8, async (b) => {
          const found = await raw.mgetBuffer(...keysOf(b).map((i) => `${context.prefix}raw:${i}`))
          for (const bytes of found) Msgpack.unpack(bytes!)
        }).then((batchesPerSecond) => batchesPerSecond * 100),
    })
    await close()
    const s = median(samples.strata)
    const r = median(samples.raw)
    return result(
      "W7",
      W7.name,
      ">= 0.8",
      "strata keys/s / raw mgetBuffer + unpack keys/s",
      "raw-ioredis",
      [
        { system: "strata", metric: "keys_per_s", value: s },
        { system: "raw-ioredis", metric: "keys_per_s", value: r },
      ],
      s / r,
    )
  },
}

export const W13: Workload = {
  id: "W13",
  name: "write path (L2 + L1 + publish): one caller, and 256 in flight",
  run: async (context) => {
    const { system, raw, close } = await setup(context)
    const value = user(1)
    const bytes = Buffer.from(Msgpack.pack(value))
    const strataSet = (i: number) => Effect.runPromise(system.cache.set(Users, { userId: i % KEYS }, value))
    const rawSet = (i: number) => raw.set(`${context.prefix}raw:${i % KEYS}`, bytes, "PX", 3_600_000)
    const one = await interleaveLatencies(context.rounds, {
      strata: () => latencies(context.scale(3_000, 800), strataSet),
      raw: () => latencies(context.scale(3_000, 800), rawSet),
    })
    const many = await interleave(context.rounds, {
      strata: () => throughput(context.scale(40_000, 8_000), 256, strataSet),
      raw: () => throughput(context.scale(40_000, 8_000), 256, rawSet),
    })
    await close()
    const latencyRatio = percentile(one.strata, 50) / percentile(one.raw, 50)
    const throughputRatio = median(many.strata) / median(many.raw)
    return {
      ...result(
        "W13",
        W13.name,
        "<= 1.3",
        "strata set p50 / raw SET PX p50 (one caller)",
        "raw-ioredis",
        [
          { system: "strata", metric: "p50_us", value: percentile(one.strata, 50) },
          { system: "raw-ioredis", metric: "p50_us", value: percentile(one.raw, 50) },
          { system: "strata", metric: "p99_us", value: percentile(one.strata, 99) },
          { system: "raw-ioredis", metric: "p99_us", value: percentile(one.raw, 99) },
          { system: "strata", metric: "ops_per_s", value: median(many.strata) },
          { system: "raw-ioredis", metric: "ops_per_s", value: median(many.raw) },
        ],
        latencyRatio,
      ),
      target: "<= 1.3 (one caller); >= 0.7 throughput at 256 in flight",
      met: meets(latencyRatio, "<= 1.3") && meets(throughputRatio, ">= 0.7"),
      notes: `throughput ratio at 256 in flight ${round(throughputRatio)} (target >= 0.7)`,
    }
  },
}

export const W14: Workload = {
  id: "W14",
  name: "encode + decode of a 1 KB entry",
  run: async (context) => {
    const { rawGet, close } = await setup(context)
    const value = user(7)
    const ops = context.scale(200_000, 40_000)
    const codec = () => {
      const started = performance.now()
      for (let i = 0; i < ops; i++) {
        const encoded = Entry.encode(Users, value, 0, 1e15, 1e15, undefined)
        const decoded = Entry.decode(Users, Result.getOrThrow(encoded).bytes)
        if (Result.isFailure(decoded)) throw new Error("did not decode")
      }
      return ((performance.now() - started) * 1000) / ops
    }
    const samples = await interleave(context.rounds, {
      codec,
      roundTrip: () => latencies(context.scale(2_000, 500), rawGet).then((values) => percentile(values, 50)),
    })
    await close()
    const c = median(samples.codec)
    const r = median(samples.roundTrip)
    return result(
      "W14",
      W14.name,
      "<= 0.1",
      "encode + decode µs / raw GET round trip p50 µs (W5's baseline)",
      "raw-round-trip",
      [
        { system: "strata-codec", metric: "us_per_op", value: c },
        { system: "raw-round-trip", metric: "p50_us", value: r },
      ],
      c / r,
    )
  },
}
