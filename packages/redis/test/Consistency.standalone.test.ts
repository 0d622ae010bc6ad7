import { randomUUID } from "node:crypto"
import { RedisStore } from "@strata/redis"
import { ConsistencyProperties } from "@strata/testkit"
import { inject } from "vitest"

// The shared standalone server (no faults injected), under this file's own prefix; each simulation
// also names its keyspace after a new id. Leases live in Redis in real time: 5 s outlasts any run.
ConsistencyProperties.consistencyProperties("standalone Redis (RedisStore)", {
  store: RedisStore.make({
    url: inject("redisUrl"),
    prefix: `consistency-${randomUUID().slice(0, 8)}:`,
    // A busy CI machine can stall a command past the 500 ms default; a timeout is a fault, not what this tests.
    commandTimeoutMillis: 5_000,
    // Each simulation adds a keyspace, and the store re-reads every generation it knows each period.
    generationRefreshMillis: 60_000,
  }),
  numRuns: Number(process.env.CONSISTENCY_REDIS_RUNS ?? 100),
  leaseTtlMillis: 5_000,
})
