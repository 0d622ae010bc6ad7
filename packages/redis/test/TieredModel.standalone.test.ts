import { randomUUID } from "node:crypto"
import { RedisBus, RedisStore } from "@strata/redis"
import { tieredModel } from "@strata/testkit"
import { Effect } from "effect"
import { inject } from "vitest"

// The shared standalone server (no faults injected); this file's keys live under their own prefix.
const url = inject("redisUrl")
const prefix = `model-${randomUUID().slice(0, 8)}:`

tieredModel("standalone Redis (RedisStore, RedisBus)", {
  tiers: Effect.gen(function* () {
    const channel = `${prefix}bus`
    const store = () => RedisStore.make({ url, prefix })
    const bus = () => RedisBus.make({ url, channel })
    return {
      stores: { a: yield* store(), b: yield* store(), reader: yield* store() },
      buses: { a: yield* bus(), b: yield* bus() },
    }
  }),
  largeVersions: true,
})
