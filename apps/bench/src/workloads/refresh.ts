/**
 * X1: a hot key read across many expiries, by two caches (two "processes",
 * each with its own L1, Redis connections and bus) through the facade, with
 * and without early refresh (XFetch, the keyspace's `earlyRefresh`). Without
 * it, every process misses once per TTL and its readers wait for the loader;
 * with it, the key is reloaded before it expires and nobody misses after the
 * cold read.
 */
import { createCache, Keyspace, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"
import { user } from "../measure.ts"
import { UserSchema } from "../systems.ts"
import type { Context, Workload } from "../workload.ts"
import { result } from "./l1.ts"

const TTL_MS = 1_000
const LOADER_MS = 20

const hotKeyspace = (earlyRefresh: number) =>
  Keyspace.make({
    name: `bench.hot-${earlyRefresh === 0 ? "plain" : "early"}`,
    key: Schema.String,
    value: UserSchema,
    ttl: TTL_MS,
    earlyRefresh,
  })

const node = (context: Context) =>
  createCache({
    l2: RedisStore.layer({ url: context.redis.url, prefix: context.prefix }),
    bus: RedisBus.layer({ url: context.redis.url, channel: `${context.prefix}bus` }),
    metricsIntervalMillis: 60_000,
  })

/** Both caches read the key every millisecond or so for `expiries` TTLs; returns misses after the cold read and loads. */
const run = async (caches: ReadonlyArray<StrataCache>, earlyRefresh: number, expiries: number) => {
  const keyspace = hotKeyspace(earlyRefresh)
  let loads = 0
  const loader = async () => {
    loads++
    await new Promise((resolve) => setTimeout(resolve, LOADER_MS))
    return user(loads)
  }
  const clients = caches.map((cache) => cache.keyspace(keyspace))
  await Promise.all(clients.map((client) => client.getOrSet("hot", loader)))
  const cold = caches.reduce((sum, cache) => sum + cache.stats().misses, 0)
  const until = Date.now() + expiries * TTL_MS
  let reads = 0
  while (Date.now() < until) {
    await Promise.all(clients.map((client) => client.getOrSet("hot", loader)))
    reads += clients.length
    await new Promise((resolve) => setImmediate(resolve))
  }
  const misses = caches.reduce((sum, cache) => sum + cache.stats().misses, 0) - cold
  return { misses, loads, reads }
}

export const X1: Workload = {
  id: "X1",
  name: "hot key across expiries, 2 processes: misses with early refresh (XFetch, beta 1) and without",
  run: async (context) => {
    const expiries = context.scale(10, 4)
    const caches = [await node(context), await node(context)]
    try {
      const plain = await run(caches, 0, expiries)
      const early = await run(caches, 1, expiries)
      context.log(
        `${expiries} TTLs of ${TTL_MS} ms, loader ${LOADER_MS} ms: without early refresh ${plain.misses} misses, ${plain.loads} loads (${plain.reads} reads); with it ${early.misses} misses, ${early.loads} loads (${early.reads} reads)`,
      )
      return result(
        "X1",
        X1.name,
        "<= 0",
        "misses after the cold read with early refresh",
        "plain",
        [
          { system: "early", metric: "misses", value: early.misses },
          { system: "early", metric: "loads", value: early.loads },
          { system: "plain", metric: "misses", value: plain.misses },
          { system: "plain", metric: "loads", value: plain.loads },
        ],
        early.misses,
      )
    } finally {
      for (const cache of caches) await cache.close()
    }
  },
}
