import { RedisStore } from "@strata/redis"
import { storeConformance } from "@strata/testkit"
import { inject } from "vitest"

storeConformance("redis (standalone)", {
  make: RedisStore.make({ url: inject("redisUrl"), prefix: "conformance:", tombstoneMillis: 500 }),
  clock: "live",
  tombstoneMillis: 500,
})

storeConformance("redis (3-master Cluster)", {
  make: RedisStore.make({
    cluster: { nodes: inject("clusterNodes") },
    prefix: "conformance:",
    tombstoneMillis: 500,
  }),
  clock: "live",
  tombstoneMillis: 500,
})
