/**
 * P1, P2: the write-behind and session patterns of @strata/patterns.
 *
 * P1 compares writing last-seen times to a source (a Redis hash standing in
 * for a database) one awaited write at a time against buffering them with
 * write-behind, which merges writes to hot keys and sends one pipelined
 * batch per flush; the write-behind side is timed until `close()` has
 * drained everything to the source. P2 measures session updates under
 * contention: 8 updaters (4 caches with their own L1, 2 updaters each) adding
 * to one user's cart, against one updater alone, and checks no update was
 * lost.
 */
import { Cache, Keyspace } from "@strata/core"
import { Session, WriteBehind } from "@strata/patterns"
import { WriteBehindStream } from "@strata/patterns/redis"
import { Effect, Schema } from "effect"
import { Redis } from "ioredis"
import { interleave, median, percentile } from "../measure.ts"
import { strata } from "../systems.ts"
import type { Workload } from "../workload.ts"
import { result } from "./l1.ts"

const LastSeen = Keyspace.make({
  name: "bench.last-seen",
  key: Schema.Int,
  value: Schema.Number,
  ttl: "1 hour",
})
const HOT_KEYS = 500

const Carts = Session.make({
  name: "bench.cart",
  key: Schema.Int,
  value: Schema.Struct({ count: Schema.Int }),
  idleTimeout: "10 minutes",
  user: (userId) => userId,
})

/** Writes/s of `writes` last-seen updates over HOT_KEYS keys, one caller. */
const direct = async (raw: Redis, hash: string, writes: number) => {
  const started = performance.now()
  for (let i = 0; i < writes; i++) await raw.hset(hash, String(i % HOT_KEYS), String(i))
  return writes / ((performance.now() - started) / 1000)
}

/** The same writes through write-behind, timed until everything reached the source. */
const behind = async (raw: Redis, hash: string, writes: number) => {
  const flush = (batch: ReadonlyArray<WriteBehind.PendingWrite<number, number>>) =>
    Effect.promise(() => raw.hset(hash, ...batch.flatMap((w) => [String(w.key), String(w.value)])))
  const started = performance.now()
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const writer = yield* WriteBehind.make({
          keyspace: LastSeen,
          flush,
          maxBatch: 200,
          flushIntervalMillis: 20,
        })
        for (let i = 0; i < writes; i++) yield* writer.set(i % HOT_KEYS, i)
        yield* writer.close
      }),
    ),
  )
  return writes / ((performance.now() - started) / 1000)
}

/** The same writes through the durable writer (one XADD each), timed until all were flushed. */
const durable = async (url: string, raw: Redis, hash: string, stream: string, writes: number) => {
  let flushed = 0
  const flush = (batch: ReadonlyArray<WriteBehindStream.StreamWrite<number, number>>) =>
    Effect.promise(async () => {
      await raw.hset(hash, ...batch.flatMap((w) => [String(w.key), String(w.value)]))
      flushed += batch.reduce((n, w) => n + w.entryIds.length, 0)
    })
  const started = performance.now()
  await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const writer = yield* WriteBehindStream.make({
          redis: { url },
          keyspace: LastSeen,
          stream,
          flush,
          maxBatch: 500,
          flushIntervalMillis: 20,
        })
        for (let i = 0; i < writes; i++) yield* writer.set(i % HOT_KEYS, i)
        while (flushed < writes) yield* Effect.sleep(5)
      }),
    ),
  )
  return writes / ((performance.now() - started) / 1000)
}

export const P1: Workload = {
  id: "P1",
  name: "write-behind: 1 caller writing last-seen times over 500 hot keys, until flushed",
  run: async (context) => {
    const raw = new Redis(context.redis.port, "127.0.0.1")
    const writes = context.scale(20_000, 5_000)
    let run = 0
    const samples = await interleave(context.rounds, {
      direct: () => direct(raw, `${context.prefix}direct`, writes),
      writeBehind: () => behind(raw, `${context.prefix}behind`, writes),
      durable: () =>
        durable(context.redis.url, raw, `${context.prefix}durable`, `${context.prefix}log:${run++}`, writes),
    })
    raw.disconnect()
    const d = median(samples.direct)
    const w = median(samples.writeBehind)
    return result(
      "P1",
      P1.name,
      ">= 3",
      "write-behind writes/s (until drained) / direct awaited HSET writes/s",
      "direct",
      [
        { system: "direct HSET", metric: "writes_per_s", value: d },
        { system: "write-behind", metric: "writes_per_s", value: w },
        { system: "write-behind durable (stream)", metric: "writes_per_s", value: median(samples.durable) },
      ],
      w / d,
      "durable: one XADD per write, so its rate is bounded by Redis round trips like direct writes",
    )
  },
}

/**
 * Runs `updaters` loops of `each` cart updates on user `userId`; returns updates/s, every latency (µs,
 * retries included) and how many calls ended in `UpdateConflict` (nothing written; retried, as a caller would).
 */
const contend = async (
  caches: ReadonlyArray<Cache.Service>,
  updaters: number,
  each: number,
  userId: number,
) => {
  const latencies: Array<number> = []
  let conflicts = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: updaters }, async (_, u) => {
      const cache = caches[u % caches.length]!
      for (let i = 0; i < each; i++) {
        const t0 = performance.now()
        const update = Effect.provideService(
          Session.update(Carts, userId, (cart) => ({ count: (cart?.count ?? 0) + 1 })),
          Cache.Cache,
          cache,
        ).pipe(
          Effect.tapError((error) =>
            Effect.sync(() => {
              if (error._tag === "UpdateConflict") conflicts++
            }),
          ),
          Effect.retry({ while: (error) => error._tag === "UpdateConflict", times: 10 }),
        )
        await Effect.runPromise(update)
        latencies.push((performance.now() - t0) * 1000)
      }
    }),
  )
  const final = await Effect.runPromise(
    Effect.provideService(Session.get(Carts, userId), Cache.Cache, caches[0]!),
  )
  if (final._tag !== "Some" || final.value.count !== updaters * each)
    throw new Error(`lost updates: ${JSON.stringify(final)} after ${updaters * each} updates`)
  return { rate: (updaters * each) / ((performance.now() - started) / 1000), latencies, conflicts }
}

export const P2: Workload = {
  id: "P2",
  name: "session update under contention: 8 updaters on one cart from 4 caches",
  run: async (context) => {
    const systems = await Promise.all(
      [0, 1, 2, 3].map(() => strata({ redisUrl: context.redis.url, prefix: context.prefix })),
    )
    const caches = systems.map((s) => s.cache)
    const each = context.scale(200, 50)
    let user = 0
    const contended: Array<number> = []
    const alone: Array<number> = []
    let conflicts = 0
    const samples = await interleave(context.rounds, {
      contended: async () => {
        const run = await contend(caches, 8, each, ++user)
        contended.push(...run.latencies)
        conflicts += run.conflicts
        return run.rate
      },
      alone: async () => {
        const run = await contend(caches, 1, each * 8, ++user)
        alone.push(...run.latencies)
        return run.rate
      },
    })
    await Promise.all(systems.map((s) => s.close()))
    const c = median(samples.contended)
    const a = median(samples.alone)
    return result(
      "P2",
      P2.name,
      ">= 0.5",
      "updates/s with 8 contending updaters / updates/s of one updater alone",
      "one updater",
      [
        { system: "8 updaters", metric: "updates_per_s", value: c },
        { system: "8 updaters", metric: "p99_us", value: percentile(contended, 99) },
        { system: "one updater", metric: "updates_per_s", value: a },
        { system: "one updater", metric: "p99_us", value: percentile(alone, 99) },
      ],
      c / a,
      `every update is a compare-and-set on Redis; no update lost (checked each round); ${conflicts} calls ended in UpdateConflict and were retried`,
    )
  },
}
