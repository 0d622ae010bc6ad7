/**
 * F1–F8: the paths users pay for, measured the way most of them call Strata:
 * the Promise facade, plain string keys such as `"user:42"`, a JSON-like value
 * schema, and L1 + `RedisStore` + `RedisBus` with leases (the defaults). Each
 * ratio is taken against the raw floor measured in the same run.
 */
import { createCache, Keyspace, Msgpack, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"
import { Redis } from "ioredis"
import {
  interleave,
  interleaveLatencies,
  latencies,
  median,
  nsPerAsync,
  percentile,
  throughput,
  user,
} from "../measure.ts"
import { meets, round } from "../report.ts"
import { UserSchema } from "../systems.ts"
import type { Context, Workload } from "../workload.ts"
import { result } from "./l1.ts"

/** A keyspace as most users write one: a string key, a JSON-like value. */
const Profiles = Keyspace.make({
  name: "bench.profile",
  key: Schema.String,
  value: UserSchema,
  ttl: "1 hour",
})
const keyOf = (i: number) => `user:${i}`
const KEYS = 5_000

/** The facade over the run's Redis, as the docs recommend it: L1, the Redis store and bus, leases on. */
const facade = (context: Context, l1: { readonly maxEntries: number } = { maxEntries: 50_000 }) =>
  createCache({
    l1,
    l2: RedisStore.layer({ url: context.redis.url, prefix: context.prefix }),
    bus: RedisBus.layer({ url: context.redis.url, channel: `${context.prefix}bus` }),
    metricsIntervalMillis: 60_000,
  })

const fill = async (cache: StrataCache, raw: Redis, context: Context) => {
  const profiles = cache.keyspace(Profiles)
  for (let i = 0; i < KEYS; i++) {
    await profiles.set(keyOf(i), user(i))
    await raw.set(`${context.prefix}raw:${keyOf(i)}`, Buffer.from(Msgpack.pack(user(i))))
  }
  return profiles
}

const rawClient = (context: Context) =>
  new Redis(context.redis.port, "127.0.0.1", { enableAutoPipelining: true })
const rawGet = (raw: Redis, context: Context) => async (i: number) =>
  Msgpack.unpack((await raw.getBuffer(`${context.prefix}raw:${keyOf(i % KEYS)}`))!)
const hit = <A>(value: A | undefined): A => {
  if (value === undefined) throw new Error("expected a hit")
  return value
}
const latencyRows = (system: string, values: ReadonlyArray<number>) => [
  { system, metric: "p50_us", value: percentile(values, 50) },
  { system, metric: "p99_us", value: percentile(values, 99) },
]

export const F1: Workload = {
  id: "F1",
  name: "facade L1 hit, string key with ':' (L1 + Redis + bus)",
  run: async (context) => {
    const cache = await facade(context)
    const raw = rawClient(context)
    const profiles = await fill(cache, raw, context)
    const map = new Map(
      Array.from({ length: KEYS }, (_, i) => [keyOf(i), Msgpack.unpack(Msgpack.pack(user(i)))]),
    )
    // Keys are built per call, as a request handler does.
    const ops = context.scale(400_000, 100_000)
    const samples = await interleave(context.rounds, {
      strata: () => nsPerAsync(ops, KEYS, (i) => profiles.get(`user:${i}`)),
      floor: () => nsPerAsync(ops, KEYS, (i) => Promise.resolve(map.get(`user:${i}`))),
    })
    raw.disconnect()
    await cache.close()
    const s = median(samples.strata)
    const f = median(samples.floor)
    return result(
      "F1",
      F1.name,
      "<= 1.5",
      "strata ns per hit / awaited Map.get ns (keys built per call)",
      "awaited-map",
      [
        { system: "strata", metric: "ns_per_op", value: s },
        { system: "awaited-map", metric: "ns_per_op", value: f },
      ],
      s / f,
    )
  },
}

/** L2 hits: an L1 of one entry, so every read is an L1 miss, a GET, a decode and a fill. */
const l2Setup = async (context: Context) => {
  const cache = await facade(context, { maxEntries: 1 })
  const raw = rawClient(context)
  const profiles = await fill(cache, raw, context)
  const strataGet = async (i: number) => hit(await profiles.get(keyOf(i % KEYS)))
  return { cache, raw, profiles, strataGet, rawGet: rawGet(raw, context) }
}

export const F2: Workload = {
  id: "F2",
  name: "facade L2 hit, one caller (L1 miss → GET → decode → fill)",
  run: async (context) => {
    const { cache, raw, strataGet, rawGet: rawRead } = await l2Setup(context)
    const ops = context.scale(4_000, 1_000)
    const samples = await interleaveLatencies(context.rounds, {
      strata: () => latencies(ops, strataGet),
      raw: () => latencies(ops, rawRead),
    })
    raw.disconnect()
    await cache.close()
    const p50 = percentile(samples.strata, 50) / percentile(samples.raw, 50)
    return result(
      "F2",
      F2.name,
      "<= 1.2",
      "strata p50 / raw getBuffer + unpack p50",
      "raw-ioredis",
      [...latencyRows("strata", samples.strata), ...latencyRows("raw-ioredis", samples.raw)],
      p50,
    )
  },
}

export const F3: Workload = {
  id: "F3",
  name: "facade L2 hits per second, 256 in flight",
  run: async (context) => {
    const { cache, raw, strataGet, rawGet: rawRead } = await l2Setup(context)
    const ops = context.scale(100_000, 20_000)
    const samples = await interleave(context.rounds, {
      strata: () => throughput(ops, 256, strataGet),
      raw: () => throughput(ops, 256, rawRead),
    })
    raw.disconnect()
    await cache.close()
    const s = median(samples.strata)
    const r = median(samples.raw)
    return result(
      "F3",
      F3.name,
      ">= 0.8",
      "strata ops/s / raw auto-pipelined getBuffer + unpack ops/s",
      "raw-ioredis",
      [
        { system: "strata", metric: "ops_per_s", value: s },
        { system: "raw-ioredis", metric: "ops_per_s", value: r },
      ],
      s / r,
    )
  },
}

export const F4: Workload = {
  id: "F4",
  name: "facade getMany of 100 (L2) against raw MGET + decode",
  run: async (context) => {
    const { cache, raw, profiles } = await l2Setup(context)
    const batch = (i: number) => Array.from({ length: 100 }, (_, j) => (i * 100 + j) % KEYS)
    const strataBatch = async (i: number) => {
      for (const found of await profiles.getMany(batch(i).map(keyOf))) hit(found)
    }
    const rawBatch = async (i: number) => {
      const found = await raw.mgetBuffer(...batch(i).map((k) => `${context.prefix}raw:${keyOf(k)}`))
      for (const bytes of found) Msgpack.unpack(bytes!)
    }
    const ops = context.scale(2_000, 400)
    const samples = await interleave(context.rounds, {
      strata: () => throughput(ops, 16, strataBatch),
      raw: () => throughput(ops, 16, rawBatch),
    })
    raw.disconnect()
    await cache.close()
    const s = median(samples.strata) * 100
    const r = median(samples.raw) * 100
    return result(
      "F4",
      F4.name,
      ">= 0.8",
      "strata keys/s / raw mgetBuffer + unpack keys/s (16 batches in flight)",
      "raw-ioredis",
      [
        { system: "strata", metric: "keys_per_s", value: s },
        { system: "raw-ioredis", metric: "keys_per_s", value: r },
      ],
      s / r,
    )
  },
}

export const F5: Workload = {
  id: "F5",
  name: "facade set (L2 + L1 + publish): one caller, and 256 in flight",
  run: async (context) => {
    const cache = await facade(context)
    const raw = rawClient(context)
    const profiles = cache.keyspace(Profiles)
    const values = Array.from({ length: KEYS }, (_, i) => user(i))
    const bytes = values.map((v) => Buffer.from(Msgpack.pack(v)))
    const strataSet = (i: number) => profiles.set(keyOf(i % KEYS), values[i % KEYS]!)
    const rawSet = (i: number) =>
      raw.set(`${context.prefix}raw:${keyOf(i % KEYS)}`, bytes[i % KEYS]!, "PX", 3_600_000)
    const ops = context.scale(3_000, 800)
    const lat = await interleaveLatencies(context.rounds, {
      strata: () => latencies(ops, strataSet),
      raw: () => latencies(ops, rawSet),
    })
    const many = context.scale(50_000, 10_000)
    const tput = await interleave(context.rounds, {
      strata: () => throughput(many, 256, strataSet),
      raw: () => throughput(many, 256, rawSet),
    })
    raw.disconnect()
    await cache.close()
    const p50 = percentile(lat.strata, 50) / percentile(lat.raw, 50)
    const ratio = median(tput.strata) / median(tput.raw)
    return {
      ...result(
        "F5",
        F5.name,
        "<= 1.3",
        "strata set p50 / raw SET PX p50 (one caller)",
        "raw-ioredis",
        [
          ...latencyRows("strata", lat.strata),
          ...latencyRows("raw-ioredis", lat.raw),
          { system: "strata", metric: "ops_per_s_256", value: median(tput.strata) },
          { system: "raw-ioredis", metric: "ops_per_s_256", value: median(tput.raw) },
        ],
        p50,
      ),
      target: "p50 <= 1.3; >= 0.7 throughput at 256 in flight",
      met: meets(p50, "<= 1.3") && meets(ratio, ">= 0.7"),
      notes: `throughput ratio at 256 in flight ${round(ratio)} (target >= 0.7)`,
    }
  },
}

export const F6: Workload = {
  id: "F6",
  name: "A's set called → B's get returns the new value (two caches, one Redis)",
  run: async (context) => {
    const a = await facade(context)
    const b = await facade(context)
    const pa = a.keyspace(Profiles)
    const pb = b.keyspace(Profiles)
    const publisher = new Redis(context.redis.port, "127.0.0.1")
    const subscriber = new Redis(context.redis.port, "127.0.0.1")
    let arrived = 0
    await subscriber.subscribe(`${context.prefix}raw-channel`)
    subscriber.on("message", () => {
      arrived = performance.now()
    })
    const n = context.scale(300, 80)
    const strataRound = async () => {
      const out: Array<number> = []
      for (let i = 0; i < n; i++) {
        const key = keyOf(i % 50)
        await pa.set(key, user(i))
        await pb.get(key)
        const next = { ...user(i), name: `renamed ${i} ${Math.random()}` }
        const started = performance.now()
        await pa.set(key, next)
        while ((await pb.get(key))?.name !== next.name) await new Promise((r) => setImmediate(r))
        out.push((performance.now() - started) * 1000)
      }
      return out
    }
    const rawRound = async () => {
      const out: Array<number> = []
      for (let i = 0; i < n; i++) {
        arrived = 0
        const started = performance.now()
        await publisher.set(`${context.prefix}raw:k`, String(i))
        await publisher.publish(`${context.prefix}raw-channel`, "k")
        while (arrived === 0) await new Promise((r) => setImmediate(r))
        out.push((arrived - started) * 1000)
      }
      return out
    }
    const samples = await interleaveLatencies(context.rounds, { strata: strataRound, raw: rawRound })
    publisher.disconnect()
    subscriber.disconnect()
    await a.close()
    await b.close()
    const p50 = percentile(samples.strata, 50) / percentile(samples.raw, 50)
    return result(
      "F6",
      F6.name,
      "<= 2.5",
      "strata p50 (A's set called → B's get returns it) / raw SET + PUBLISH → subscriber callback p50",
      "raw-set-publish",
      [...latencyRows("strata", samples.strata), ...latencyRows("raw-set-publish", samples.raw)],
      p50,
    )
  },
}

export const F7: Workload = {
  id: "F7",
  name: "facade cold getOrSet with leases (miss → lease → load → fill)",
  run: async (context) => {
    const cache = await facade(context)
    const raw = rawClient(context)
    const profiles = cache.keyspace(Profiles)
    let n = 0
    const value = user(1)
    const bytes = Buffer.from(Msgpack.pack(value))
    const strataCold = () => profiles.getOrSet(`cold:${n++}`, async () => value)
    const rawCold = async () => {
      const key = `${context.prefix}raw:cold:${n++}`
      if ((await raw.getBuffer(key)) === null) await raw.set(key, bytes, "PX", 3_600_000)
    }
    const ops = context.scale(3_000, 800)
    const samples = await interleaveLatencies(context.rounds, {
      strata: () => latencies(ops, strataCold),
      raw: () => latencies(ops, rawCold),
    })
    raw.disconnect()
    await cache.close()
    const p50 = percentile(samples.strata, 50) / percentile(samples.raw, 50)
    return result(
      "F7",
      F7.name,
      "<= 2",
      "strata cold getOrSet p50 / raw GET + SET p50",
      "raw-ioredis",
      [...latencyRows("strata", samples.strata), ...latencyRows("raw-ioredis", samples.raw)],
      p50,
    )
  },
}

const gc = () => (globalThis as { gc?: () => void }).gc?.()

export const F8: Workload = {
  id: "F8",
  name: "heap per ~1 KB entry in L1 against a Map of the same decoded objects",
  run: async (context) => {
    const entries = context.scale(50_000, 10_000)
    /** Heap bytes per entry of what `build` keeps, measured before `release` lets it go. */
    const heap = async (build: () => Promise<() => Promise<void>>) => {
      gc()
      const before = process.memoryUsage().heapUsed
      const release = await build()
      gc()
      const perEntry = (process.memoryUsage().heapUsed - before) / entries
      await release()
      return perEntry
    }
    const samples = await interleave(context.rounds, {
      strata: () =>
        heap(async () => {
          const cache = await createCache({ l1: { maxEntries: entries, maxBytes: 1024 ** 3 } })
          const profiles = cache.keyspace(Profiles)
          for (let i = 0; i < entries; i++) await profiles.set(keyOf(i), user(i))
          // L1 keeps what this process wrote as bytes until the first read: read each once, so the
          // entries hold decoded values, as the Map does.
          for (let i = 0; i < entries; i++) await profiles.get(keyOf(i))
          return () => cache.close()
        }),
      map: () =>
        heap(async () => {
          const map = new Map<string, unknown>()
          for (let i = 0; i < entries; i++) map.set(keyOf(i), Msgpack.unpack(Msgpack.pack(user(i))))
          return async () => map.clear()
        }),
    })
    const s = median(samples.strata)
    const m = median(samples.map)
    context.log(`strata ${Math.round(s)} B per entry, Map ${Math.round(m)} B per entry`)
    return result(
      "F8",
      F8.name,
      "<= 1.3",
      "strata heap bytes per L1 entry / Map of the same decoded objects",
      "map",
      [
        { system: "strata", metric: "bytes_per_entry", value: s },
        { system: "map", metric: "bytes_per_entry", value: m },
      ],
      s / m,
    )
  },
}
