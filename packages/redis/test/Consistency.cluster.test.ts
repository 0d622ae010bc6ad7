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
  }),
  numRuns: Number(process.env.CONSISTENCY_CLUSTER_RUNS ?? 50),
  leaseTtlMillis: 5_000,
})
