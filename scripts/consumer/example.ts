/**
 * What a user of the published packages writes, compiled and run by
 * scripts/consumer-check.mjs in a project outside the workspace: a typed
 * keyspace on the memory tier and, when REDIS_URL is set, over Redis with the
 * Redis bus, through the Promise facade and the Effect API.
 */
import assert from "node:assert/strict"
import { Cache, createCache, Keyspace, MemoryStore, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Effect, Option, Schema } from "effect"

const Profiles = Keyspace.make({
  name: "user.profile",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String, plan: Schema.Literals(["free", "pro"]) }),
  ttl: "1 hour",
  staleFor: "1 day",
  tags: ({ userId }) => [`user:${userId}`],
})

interface Profile {
  readonly name: string
  readonly plan: "free" | "pro"
}

const exercise = async (cache: StrataCache) => {
  const profiles = cache.keyspace(Profiles)
  let loads = 0
  const load = async ({ userId }: { readonly userId: number }): Promise<Profile> => {
    loads++
    return { name: `User ${userId}`, plan: "pro" }
  }
  const first = await profiles.getOrSet({ userId: 42 }, load)
  const again = await profiles.getOrSet({ userId: 42 }, load)
  assert.deepEqual(again, first)
  assert.equal(loads, 1)

  await profiles.set({ userId: 7 }, { name: "Ada", plan: "free" })
  const ada: Profile | undefined = await profiles.get({ userId: 7 })
  assert.deepEqual(ada, { name: "Ada", plan: "free" })

  // A key of the wrong shape is a compile error, and a run-time InvalidKey for code that gets past the types.
  // @ts-expect-error userId must be a number
  const wrongKey = profiles.get({ userId: "7" })
  await assert.rejects(wrongKey, (error: { readonly _tag?: string }) => error._tag === "InvalidKey")

  await cache.invalidateTag("user:42")
  assert.equal(await profiles.get({ userId: 42 }), undefined)
}

const waitFor = async (condition: () => Promise<boolean>, timeoutMillis: number) => {
  const deadline = Date.now() + timeoutMillis
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMillis} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const onMemory = async () => {
  for (const options of [{}, { l2: MemoryStore.layer() }]) {
    const cache = await createCache(options)
    await exercise(cache)
    await cache.close()
  }
  const viaEffect = await Effect.runPromise(
    Effect.gen(function* () {
      const cache = yield* Cache.Cache
      const profile: Profile = { name: "Effect", plan: "pro" }
      yield* cache.set(Profiles, { userId: 1 }, profile)
      return yield* cache.get(Profiles, { userId: 1 })
    }).pipe(Effect.provide(Cache.layer({ l2: MemoryStore.layer() }))),
  )
  assert.deepEqual(Option.getOrUndefined(viaEffect), { name: "Effect", plan: "pro" })
  console.log("memory tier: getOrSet/get/set/invalidateTag, InvalidKey, Effect API: ok")
}

const onRedis = async (url: string) => {
  const prefix = `consumer-check-${process.pid}:`
  const tiers = () => ({
    l2: RedisStore.layer({ url, prefix }),
    bus: RedisBus.layer({ url, channel: `${prefix}bus` }),
  })
  const a = await createCache(tiers())
  const b = await createCache(tiers())
  await exercise(a)

  // b fills its L1 from Redis; a's next write reaches b's L1 only through the bus.
  const onA = a.keyspace(Profiles)
  const onB = b.keyspace(Profiles)
  await onA.set({ userId: 1 }, { name: "v1", plan: "free" })
  assert.deepEqual(await onB.get({ userId: 1 }), { name: "v1", plan: "free" })
  await onA.set({ userId: 1 }, { name: "v2", plan: "pro" })
  await waitFor(async () => (await onB.get({ userId: 1 }))?.name === "v2", 3_000)

  const viaEffect = await Effect.runPromise(
    Effect.gen(function* () {
      const cache = yield* Cache.Cache
      return yield* cache.get(Profiles, { userId: 1 })
    }).pipe(Effect.provide(Cache.layer(tiers()))),
  )
  assert.deepEqual(Option.getOrUndefined(viaEffect), { name: "v2", plan: "pro" })
  await a.close()
  await b.close()
  console.log(`redis tier (${url}): RedisStore.layer + RedisBus.layer, invalidation across caches: ok`)
}

await onMemory()
const url = process.env.REDIS_URL
if (url !== undefined && url !== "") await onRedis(url)
