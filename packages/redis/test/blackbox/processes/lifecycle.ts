/**
 * A script that uses caches and then simply ends: no `process.exit`, no IPC
 * channel. Lifecycle.test.ts checks that the process exits by itself, i.e.
 * that Strata leaves no active handle behind. It prints `done` when its last
 * statement has run, and anything that escaped to the process handlers.
 *
 * Usage: lifecycle.ts <mode>, with BB_REDIS_URL set for the Redis modes.
 * - `redis-closed`: three caches over RedisStore + RedisBus, used and closed.
 * - `redis-await-using`: the same with `await using` (closed by Symbol.asyncDispose).
 * - `memory-never-closed`: an L1-only cache, used and never closed.
 * - `memory-store-never-closed`: a cache over a MemoryStore, used and never closed.
 */
import { createCache, Keyspace, MemoryStore, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

process.on("uncaughtException", (error) => console.log(`escaped: uncaughtException ${String(error)}`))
process.on("unhandledRejection", (error) => console.log(`escaped: unhandledRejection ${String(error)}`))

const Items = Keyspace.make({
  name: "bb.life",
  key: Schema.String,
  value: Schema.Struct({ n: Schema.Number }),
  ttl: "1 minute",
})

const use = async (cache: StrataCache) => {
  const items = cache.keyspace(Items)
  await items.set("item:1", { n: 1 })
  await items.get("item:1")
  await items.getOrSet("item:2", async () => ({ n: 2 }))
}

const redis = () => {
  const url = process.env.BB_REDIS_URL!
  return createCache({
    l2: RedisStore.layer({ url, prefix: "bb-life:" }),
    bus: RedisBus.layer({ url, channel: "bb-life" }),
  })
}

const mode = process.argv[2]
switch (mode) {
  case "redis-closed": {
    for (let i = 0; i < 3; i++) {
      const cache = await redis()
      await use(cache)
      await cache.close()
    }
    // Time for anything a closed cache left scheduled to show itself (a reconnect, say).
    await new Promise((resolve) => setTimeout(resolve, 500))
    break
  }
  case "redis-await-using": {
    for (let i = 0; i < 3; i++) {
      // Closed by Symbol.asyncDispose when the block ends.
      const cache = await redis()
      await (async () => {
        await using disposable = cache as StrataCache & AsyncDisposable
        await use(disposable)
      })()
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    break
  }
  case "redis-unreachable": {
    // Nothing listens on the port: createCache fails (typed), and nothing it made may outlive the failure.
    const dead = `redis://127.0.0.1:${process.env.BB_DEAD_PORT}`
    for (const options of [
      { l2: RedisStore.layer({ url: dead, prefix: "bb-life:" }) },
      { bus: RedisBus.layer({ url: dead, channel: "bb-life" }) },
    ]) {
      const failed = await createCache(options).then(
        () => "created",
        (error: { _tag?: string }) => error._tag,
      )
      if (failed !== "StoreUnavailable" && failed !== "BusUnavailable") console.log(`escaped: ${failed}`)
    }
    break
  }
  case "memory-never-closed":
    await use(await createCache())
    break
  case "memory-store-never-closed":
    await use(await createCache({ l2: MemoryStore.layer() }))
    break
  default:
    throw new Error(`unknown mode ${mode}`)
}
console.log("done")
