/**
 * PR1: `@strata/patterns`' read-through repository against the hand-written
 * batch it replaces. Each operation reads 100 ids of which 10 were never
 * cached: the repository's `getMany` (L1, one L2 round trip, one `loadMany`
 * for the misses, fills with leases and version checks) against an ioredis
 * MGET, one batched "query" for the misses and a pipelined SET of what it
 * loaded. The source is an in-memory Map answered after `setImmediate`, so
 * the numbers are the cache's work, not a database's.
 */
import { createCache, Keyspace, Msgpack, type StrataCache } from "@strata/core"
import { createRepository } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"
import { Redis } from "ioredis"
import { interleaveLatencies, latencies, percentile, user } from "../measure.ts"
import { type User, UserSchema } from "../systems.ts"
import type { Context, Workload } from "../workload.ts"
import { result } from "./l1.ts"

const Users = Keyspace.make({ name: "bench.repo.user", key: Schema.Int, value: UserSchema, ttl: "1 hour" })

const BATCH = 100
const MISSES = 10
const TTL_MS = 3_600_000

/** The source of truth: a Map of every user an operation can ask for, answered after a turn of the loop. */
const makeSource = (size: number) => {
  const table = new Map<number, User>()
  for (let i = 0; i < size; i++) table.set(i, user(i))
  return {
    findUsers: async (ids: ReadonlyArray<number>): Promise<Map<number, User>> => {
      await new Promise((resolve) => setImmediate(resolve))
      const rows = new Map<number, User>()
      for (const id of ids) {
        const row = table.get(id)
        if (row !== undefined) rows.set(id, row)
      }
      return rows
    },
  }
}

/**
 * The ids of operation `op` of a system: `BATCH - misses` distinct cached ids (53 is prime to the cached
 * count, a multiple of 100), and `misses` ids no earlier operation asked for.
 */
const idsOf = (op: number, cached: number, firstMiss: number, misses = MISSES) => {
  const ids: Array<number> = []
  for (let i = 0; i < BATCH - misses; i++) ids.push((op * 37 + i * 53) % cached)
  for (let i = 0; i < misses; i++) ids.push(firstMiss + op * misses + i)
  return ids
}

const openCache = (context: Context, l1: boolean): Promise<StrataCache> =>
  createCache({
    ...(l1 ? {} : { l1: false }),
    l2: RedisStore.layer({ url: context.redis.url, prefix: `${context.prefix}${l1 ? "l1" : "l2"}:` }),
    bus: RedisBus.layer({ url: context.redis.url, channel: `${context.prefix}${l1 ? "l1" : "l2"}:bus` }),
    metricsIntervalMillis: 60_000,
  })

export const PR1: Workload = {
  id: "PR1",
  name: "repository getMany, 100 ids with 10% misses, vs hand-written MGET + batch query + pipelined SET",
  run: async (context) => {
    const ops = context.scale(600, 200)
    const CACHED = context.scale(5_000, 1_000)
    const rounds = context.rounds + 1 // interleaveLatencies warms each system up once
    const missIds = ops * rounds * MISSES
    const source = makeSource(CACHED + 3 * missIds)
    const raw = new Redis(context.redis.port, "127.0.0.1", { enableAutoPipelining: true })
    const rawKey = (id: number) => `${context.prefix}raw:${id}`
    const withL1 = await openCache(context, true)
    const withoutL1 = await openCache(context, false)
    const repoL1 = createRepository(withL1, Users, { loadMany: (ids) => source.findUsers(ids) })
    const repoL2 = createRepository(withoutL1, Users, { loadMany: (ids) => source.findUsers(ids) })
    // The cached 90%: every system starts with the same ids stored (written in batches, not loaded: loading
    // 5,000 misses at once takes seconds, a lease and a checked fill each).
    const all = Array.from({ length: CACHED }, (_, i) => i)
    for (const cache of [withL1, withoutL1]) {
      const users = cache.keyspace(Users)
      for (let i = 0; i < CACHED; i += 500)
        await users.setMany(all.slice(i, i + 500).map((id) => [id, user(id)] as const))
    }
    await raw.mset(new Map(all.map((id) => [rawKey(id), Buffer.from(Msgpack.pack(user(id)))])))

    /** The hand-written batch: MGET, one query for the misses, a pipelined SET with a TTL, answers in order. */
    const handWritten = async (ids: ReadonlyArray<number>) => {
      const bytes = await raw.mgetBuffer(...ids.map(rawKey))
      const out: Array<User | undefined> = bytes.map((b) =>
        b === null ? undefined : (Msgpack.unpack(b) as User),
      )
      const missing = ids.filter((_, i) => out[i] === undefined)
      if (missing.length > 0) {
        const rows = await source.findUsers(missing)
        const pipeline = raw.pipeline()
        for (const [id, row] of rows) pipeline.set(rawKey(id), Buffer.from(Msgpack.pack(row)), "PX", TTL_MS)
        await pipeline.exec()
        ids.forEach((id, i) => {
          if (out[i] === undefined) out[i] = rows.get(id)
        })
      }
      return out
    }
    const check = (found: ReadonlyArray<User | undefined>) => {
      if (found.length !== BATCH || found.some((u) => u === undefined))
        throw new Error("a batch came back short")
    }
    // Each system gets its own never-asked miss ids, and its own operation counter across rounds.
    const counters = { repoL2: 0, repoL1: 0, raw: 0, hits: 0 }
    const firstMiss = { repoL2: CACHED, repoL1: CACHED + missIds, raw: CACHED + 2 * missIds, hits: 0 }
    const run =
      (
        name: keyof typeof counters,
        getMany: (ids: ReadonlyArray<number>) => Promise<Array<User | undefined>>,
        misses = MISSES,
      ) =>
      () =>
        latencies(ops, async () =>
          check(await getMany(idsOf(counters[name]++, CACHED, firstMiss[name], misses))),
        )
    const samples = await interleaveLatencies(context.rounds, {
      repository: run("repoL2", (ids) => repoL2.getMany(ids)),
      repositoryAllHits: run("hits", (ids) => repoL2.getMany(ids), 0),
      repositoryL1: run("repoL1", (ids) => repoL1.getMany(ids)),
      handWritten: run("raw", handWritten),
    })
    raw.disconnect()
    await withL1.close()
    await withoutL1.close()
    const rows = (system: string, values: Array<number>) => [
      { system, metric: "p50_us", value: percentile(values, 50) },
      { system, metric: "p99_us", value: percentile(values, 99) },
    ]
    return result(
      "PR1",
      PR1.name,
      "<= 3",
      "repository (no L1) p50 / hand-written p50, same run",
      "hand-written",
      [
        ...rows("repository", samples.repository),
        ...rows("repository-with-l1", samples.repositoryL1),
        ...rows("repository-all-hits", samples.repositoryAllHits),
        ...rows("hand-written", samples.handWritten),
      ],
      percentile(samples.repository, 50) / percentile(samples.handWritten, 50),
      "the repository also takes a lease per missing key and fills with a version check (no stampede, no stale fill); the hand-written batch does neither. repository-all-hits: the same getMany with no miss",
    )
  },
}
