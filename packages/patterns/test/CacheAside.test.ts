import { Cache, createCache, InvalidValue, Keyspace, type StoreFailed, StoreUnavailable } from "@strata/core"
import { CacheAside, createCacheAside } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Effect, Schema } from "effect"
import { afterEach, describe, expect, it } from "vitest"

const Profiles = Keyspace.make({
  name: "aside.profile",
  key: Schema.Int,
  value: Schema.Struct({ name: Schema.String }),
  ttl: "1 minute",
  tags: (id) => [`user:${id}`],
})

const servers: Array<RedisHarness.RedisServer> = []
afterEach(async () => {
  await RedisHarness.stopAll(servers.splice(0))
})

const eventually = async (check: () => Promise<boolean>, millis = 10_000) => {
  const deadline = Date.now() + millis
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return true
}

describe("error-tolerant cache-aside writes", () => {
  it("with Redis killed, writes answer false and report StoreFailed; they never reject; after a restart they apply again", async () => {
    const server = await RedisHarness.startRedis()
    servers.push(server)
    const cache = await createCache({
      l2: RedisStore.layer({ url: server.url, prefix: "aside:" }),
      bus: RedisBus.layer({ url: server.url, channel: "aside:bus" }),
    })
    const events: Array<StoreFailed> = []
    const aside = createCacheAside(cache, { onStoreError: (event) => events.push(event) })
    const profiles = cache.keyspace(Profiles)
    expect(await aside.set(Profiles, 1, { name: "Ada" })).toBe(true)
    expect(events).toEqual([])

    await server.kill()
    expect(await aside.set(Profiles, 1, { name: "Ada Lovelace" })).toBe(false)
    expect(await aside.setMany(Profiles, [[2, { name: "Alan" }]])).toBe(false)
    expect(await aside.delete(Profiles, 1)).toBe(false)
    expect(await aside.invalidateTag("user:1")).toBe(false)
    expect(events.map((e) => [e.keyspace, e.operation])).toEqual([
      [Profiles.id, "set"],
      [Profiles.id, "setMany"],
      [Profiles.id, "delete"],
      ["*", "invalidateTag"],
    ])
    for (const e of events) expect(["StoreUnavailable", "Timeout"]).toContain(e.error._tag)
    // The same write through core's own API fails the caller: that is what the tolerant form removes.
    await expect(profiles.set(1, { name: "x" })).rejects.toBeInstanceOf(StoreUnavailable)
    // Reads are misses, not failures (core's cache-aside rule).
    expect(await profiles.get(1)).toBeUndefined()
    // Bad input is still an error, down or not.
    await expect(aside.set(Profiles, 1, { name: 7 } as unknown as { name: string })).rejects.toBeInstanceOf(
      InvalidValue,
    )

    await server.restart()
    expect(await eventually(async () => await aside.set(Profiles, 3, { name: "Grace" }))).toBe(true)
    const fresh = await createCache({ l2: RedisStore.layer({ url: server.url, prefix: "aside:" }) })
    expect(await fresh.keyspace(Profiles).get(3)).toEqual({ name: "Grace" })
    await fresh.close()
    await cache.close()
  })

  it("on a working tier every write applies and nothing is reported", async () => {
    const cache = await createCache()
    const events: Array<StoreFailed> = []
    const aside = createCacheAside(cache, { onStoreError: (event) => events.push(event) })
    expect(await aside.set(Profiles, 1, { name: "Ada" })).toBe(true)
    expect(await cache.keyspace(Profiles).get(1)).toEqual({ name: "Ada" })
    expect(await aside.invalidateTag("user:1")).toBe(true)
    expect(await cache.keyspace(Profiles).get(1)).toBeUndefined()
    expect(await aside.delete(Profiles, 1)).toBe(true)
    expect(events).toEqual([])
    await cache.close()
  })

  it("Effect form: the outage is reported and the program goes on; input errors stay typed", async () => {
    const server = await RedisHarness.startRedis()
    servers.push(server)
    const events: Array<StoreFailed> = []
    const program = Effect.gen(function* () {
      const aside = yield* CacheAside.make({ onStoreError: (event) => events.push(event) })
      const before = yield* aside.set(Profiles, 1, { name: "Ada" })
      yield* Effect.promise(() => server.kill())
      const during = yield* aside.set(Profiles, 1, { name: "Ada L." })
      const bad = yield* aside
        .set(Profiles, 1.5, { name: "x" })
        .pipe(Effect.catchTag("InvalidKey", (e) => Effect.succeed(e._tag)))
      return { before, during, bad }
    })
    const layer = Cache.layer({ l2: RedisStore.layer({ url: server.url, prefix: "aside-fx:" }) })
    expect(await Effect.runPromise(program.pipe(Effect.provide(layer)))).toEqual({
      before: true,
      during: false,
      bad: "InvalidKey",
    })
    expect(events.map((e) => e.operation)).toEqual(["set"])
  })
})
