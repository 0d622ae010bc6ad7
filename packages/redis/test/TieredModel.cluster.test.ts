import { randomUUID } from "node:crypto"
import { RedisBus, RedisStore } from "@strata/redis"
import { tieredModel } from "@strata/testkit"
import { Effect } from "effect"
import { inject } from "vitest"

// The shared 3-master Cluster (no faults injected); this file's keys live under their own prefix.
const cluster = { nodes: inject("clusterNodes") }
const prefix = `model-${randomUUID().slice(0, 8)}:`

tieredModel("3-master Redis Cluster (RedisStore, sharded RedisBus)", {
  tiers: Effect.gen(function* () {
    const channel = `${prefix}bus`
    const store = () => RedisStore.make({ cluster, prefix })
    const bus = () => RedisBus.make({ cluster, channel })
    return {
      stores: { a: yield* store(), b: yield* store(), reader: yield* store() },
      buses: { a: yield* bus(), b: yield* bus() },
    }
  }),
  largeVersions: true,
})
