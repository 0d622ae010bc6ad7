import { MemoryStore } from "@strata/core"
import { storeConformance } from "@strata/testkit"

// One line per driver: the suite registers its tests with your Vitest. Here the memory store
// stands in for your driver; `clock: "test"` because it reads Effect's Clock.
storeConformance("memory store", { make: MemoryStore.make(), clock: "test", numRuns: 100 })
