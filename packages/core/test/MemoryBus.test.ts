import { MemoryBus } from "@strata/core"
import { busConformance } from "@strata/testkit"
import { Effect } from "effect"

let hub = MemoryBus.hub()
busConformance("memory", {
  make: (nodes) =>
    Effect.sync(() => {
      hub = MemoryBus.hub()
      return Array.from({ length: nodes }, (_, i) => hub.node(String(i)))
    }),
  cut: async (_, index) => hub.cut(String(index)),
  forge: async (bytes) => hub.forge(bytes),
})
