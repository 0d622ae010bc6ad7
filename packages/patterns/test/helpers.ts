import { randomUUID } from "node:crypto"
import { createCache, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit/servers"

/** A way to build caches that share their tiers: L1 only (one process), or L1 over a real Redis with its bus. */
export interface Tier {
  readonly name: "memory" | "redis"
  /** A cache over the tier; with Redis, every cache of this tier shares one prefix and bus channel. */
  readonly open: () => Promise<StrataCache>
}

/** Starts what a test file needs: the two tiers (Redis on its own server), and their teardown. */
export const tiers = () => {
  let server: RedisHarness.RedisServer | undefined
  const opened: Array<StrataCache> = []
  const track = async (cache: Promise<StrataCache>) => {
    const c = await cache
    opened.push(c)
    return c
  }
  let inMemory: Promise<StrataCache> | undefined
  const memory: Tier = {
    name: "memory",
    // One process: one cache is the whole tier, so every `open` until the next reset returns the same cache.
    open: () => {
      inMemory ??= track(createCache())
      return inMemory
    },
  }
  let prefix = ""
  const redis: Tier = {
    name: "redis",
    open: () =>
      track(
        createCache({
          // Generous command timeouts: these tests are about the patterns, on a loaded 2-core CI machine.
          l2: RedisStore.layer({ url: server!.url, prefix, commandTimeoutMillis: 5_000 }),
          bus: RedisBus.layer({ url: server!.url, channel: `${prefix}bus`, commandTimeoutMillis: 5_000 }),
        }),
      ),
  }
  return {
    all: [memory, redis] as const,
    redis,
    server: () => server!,
    /** Call in beforeAll. */
    start: async () => {
      server = await RedisHarness.startRedis()
    },
    /** Call in beforeEach: a fresh namespace (memory cache dropped, new Redis prefix). */
    reset: async () => {
      await Promise.all(opened.splice(0).map((c) => c.close()))
      inMemory = undefined
      prefix = `t-${randomUUID().slice(0, 8)}:`
    },
    /** Call in afterAll. */
    stop: async () => {
      await Promise.all(opened.splice(0).map((c) => c.close()))
      if (server !== undefined) await RedisHarness.stopAll([server])
    },
  }
}
