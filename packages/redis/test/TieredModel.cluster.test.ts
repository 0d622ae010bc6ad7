import { randomUUID } from "node:crypto"
import { RedisBus, RedisStore } from "@strata/redis"
import { tieredModel } from "@strata/testkit"
import { Effect } from "effect"
import { inject } from "vitest"

// The shared 3-master Cluster (no faults injected); this file's keys live under their own prefix.
const cluster = { nodes: inject("clusterNodes") }
const prefix = `model-${randomUUID().slice(0, 8)}:`
// A busy CI machine can stall a command past the 500 ms default; a timeout is a fault, not what this tests.
const commandTimeoutMillis = 5_000
// Every run adds keyspaces and a store re-reads every generation it knows each period: a long period
// keeps that background load from growing with the run count (clears reach the writers by the bus).
const generationRefreshMillis = 60_000

tieredModel("3-master Redis Cluster (RedisStore, sharded RedisBus)", {
  tiers: Effect.gen(function* () {
    const channel = `${prefix}bus`
    const store = () => RedisStore.make({ cluster, prefix, commandTimeoutMillis, generationRefreshMillis })
    const bus = () => RedisBus.make({ cluster, channel })
    return {
      stores: { a: yield* store(), b: yield* store(), reader: yield* store() },
      buses: { a: yield* bus(), b: yield* bus() },
    }
  }),
  largeVersions: true,
})
