import { randomUUID } from "node:crypto"
import { RedisStore } from "@strata/redis"
import { ConsistencyProperties } from "@strata/testkit"
import { inject } from "vitest"

// The shared 3-master Cluster (no faults injected), under this file's own prefix: keys "a" and "b"
// hash to different slots, so one simulation talks to several masters. 50 runs per invariant (the
// standalone file runs 100): a Cluster run costs about twice as much.
ConsistencyProperties.consistencyProperties("3-master Redis Cluster (RedisStore)", {
  store: RedisStore.make({
    cluster: { nodes: inject("clusterNodes") },
    prefix: `consistency-${randomUUID().slice(0, 8)}:`,
    // A busy CI machine can stall a command past the 500 ms default; a timeout is a fault, not what this tests.
    commandTimeoutMillis: 5_000,
    // Each simulation adds a keyspace, and the store re-reads every generation it knows each period.
    generationRefreshMillis: 60_000,
  }),
  numRuns: Number(process.env.CONSISTENCY_CLUSTER_RUNS ?? 50),
  leaseTtlMillis: 5_000,
})
