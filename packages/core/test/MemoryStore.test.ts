import { MemoryStore } from "@strata/core"
import { storeConformance } from "@strata/testkit"

storeConformance("memory", { make: MemoryStore.make(), clock: "test" })
