import { MemoryBus, MemoryStore } from "@strata/core"
import { tieredModel } from "@strata/testkit"
import { Effect } from "effect"

// One memory store is the shared tier of both writers and the readers; a hub carries the bus.
tieredModel("memory store, memory bus", {
  tiers: Effect.gen(function* () {
    const store = yield* MemoryStore.make({ maxEntries: 1_000_000 })
    const hub = MemoryBus.hub()
    return { stores: { a: store, b: store, reader: store }, buses: { a: hub.node("a"), b: hub.node("b") } }
  }),
})
