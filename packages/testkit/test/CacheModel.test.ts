import { Cache, MemoryStore } from "@strata/core"
import { cacheModel } from "@strata/testkit"

cacheModel("L1 only", { layer: () => Cache.layer() })
cacheModel("memory store as the only tier (no L1)", {
  layer: () => Cache.layer({ l1: false, l2: MemoryStore.layer() }),
})
cacheModel("L1 over a memory store", { layer: () => Cache.layer({ l2: MemoryStore.layer() }) })
cacheModel("a tiny L1 over a memory store (evicted entries come back from L2)", {
  layer: () => Cache.layer({ l1: { maxEntries: 2 }, l2: MemoryStore.layer() }),
})
cacheModel("a tiny L1 that evicts constantly", {
  layer: () => Cache.layer({ l1: { maxEntries: 2 } }),
  evicts: true,
})
