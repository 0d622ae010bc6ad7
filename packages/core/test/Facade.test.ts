import {
  type CacheEvent,
  createCache,
  EntryTooLarge,
  InvalidKey,
  InvalidValue,
  Keyspace,
  LoaderFailed,
  MemoryStore,
} from "@strata/core"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

const Profiles = Keyspace.make({
  name: "user.profile",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String }),
  ttl: "1 hour",
  staleFor: "1 day",
  tags: ({ userId }) => [`user:${userId}`],
})
const Likes = Keyspace.counter({ name: "post.likes", key: Schema.Int, ttl: "1 day" })

describe("createCache (Promise facade)", () => {
  for (const [name, options] of [
    ["L1 only", {}],
    ["L1 over a memory store", { l2: MemoryStore.layer() }],
  ] as const) {
    it(`reads, writes, loads once under concurrency and closes (${name})`, async () => {
      const cache = await createCache(options)
      const profiles = cache.keyspace(Profiles)
      expect(await profiles.get({ userId: 1 })).toBeUndefined()
      let calls = 0
      const loader = async ({ userId }: { userId: number }) => {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 10))
        return { name: `user ${userId}` }
      }
      const all = await Promise.all(
        Array.from({ length: 50 }, () => profiles.getOrSet({ userId: 1 }, loader)),
      )
      expect(calls).toBe(1)
      expect(new Set(all.map((p) => p.name))).toEqual(new Set(["user 1"]))
      expect(profiles.peek({ userId: 1 })).toEqual({ name: "user 1" })
      await profiles.set({ userId: 2 }, { name: "two" })
      expect(await profiles.getMany([{ userId: 1 }, { userId: 2 }, { userId: 3 }])).toEqual([
        { name: "user 1" },
        { name: "two" },
        undefined,
      ])
      await cache.invalidateTag("user:1")
      expect(await profiles.get({ userId: 1 })).toBeUndefined()
      await profiles.delete({ userId: 2 })
      expect(await profiles.get({ userId: 2 })).toBeUndefined()
      await profiles.setMany([[{ userId: 3 }, { name: "three" }]])
      await profiles.clear()
      expect(await profiles.get({ userId: 3 })).toBeUndefined()
      const likes = cache.keyspace(Likes)
      expect(await likes.increment(7)).toBe(1)
      expect(await likes.increment(7, 4)).toBe(5)
      expect(await likes.get(7)).toBe(5)
      expect(cache.stats().loads).toBe(1)
      const metrics = await cache.metrics()
      const loads = metrics.find((m) => m.id === "strata_cache_loads")
      expect(loads).toBeDefined()
      await cache.close()
    })
  }

  it("throws tagged Error subclasses", async () => {
    const cache = await createCache({ maxEntryBytes: 1024 })
    const profiles = cache.keyspace(Profiles)
    const rejection = (p: Promise<unknown>) =>
      p.then(
        () => expect.unreachable(),
        (error: unknown) => error,
      )
    const badKey = await rejection(profiles.get({ userId: "1" } as never))
    expect(badKey).toBeInstanceOf(InvalidKey)
    expect(badKey).toBeInstanceOf(Error)
    expect((badKey as InvalidKey)._tag).toBe("InvalidKey")
    expect(await rejection(profiles.getOrSet({ userId: 1.5 }, () => ({ name: "x" })))).toBeInstanceOf(
      InvalidKey,
    )
    expect(await rejection(profiles.set({ userId: 1 }, { name: 1 } as never))).toBeInstanceOf(InvalidValue)
    expect(await rejection(profiles.set({ userId: 1 }, { name: "x".repeat(2000) }))).toBeInstanceOf(
      EntryTooLarge,
    )
    const failed = await rejection(
      profiles.getOrSet({ userId: 1 }, async () => {
        throw new Error("db down")
      }),
    )
    expect(failed).toBeInstanceOf(LoaderFailed)
    expect((failed as LoaderFailed).message).toContain("db down")
    expect(((failed as LoaderFailed).cause as Error).message).toBe("db down")
    const thrownSync = await rejection(
      profiles.getOrSet({ userId: 1 }, () => {
        throw new TypeError("bug")
      }),
    )
    expect(thrownSync).toBeInstanceOf(LoaderFailed)
    expect(() => profiles.peek({ userId: "x" } as never)).toThrow(InvalidKey)
    await cache.close()
  })

  it("serves a stale value when the loader fails inside the grace window, and reports it", async () => {
    const cache = await createCache()
    const events: Array<CacheEvent> = []
    const stop = cache.on((event) => events.push(event))
    const Short = Keyspace.make({
      name: "short",
      key: Schema.String,
      value: Schema.String,
      ttl: 20,
      staleFor: "1 minute",
    })
    const short = cache.keyspace(Short)
    await short.set("k", "old")
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(await short.getOrSet("k", () => Promise.reject(new Error("down")))).toBe("old")
    expect(events.map((e) => e._tag)).toEqual(["StaleServed"])
    stop()
    await cache.close()
  })
})
