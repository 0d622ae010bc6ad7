import { assert, describe, it } from "@effect/vitest"
import { Cache, MemoryBus, MemoryStore } from "@strata/core"
import { Effect } from "effect"
import { flaky, Items } from "./fixtures.ts"

describe("the write path", () => {
  it.effect("never publishes an invalidation for a write whose L2 step failed", () =>
    Effect.gen(function* () {
      const { store, state } = flaky(yield* MemoryStore.make())
      const hub = MemoryBus.hub()
      const cache = yield* Cache.make({ circuitBreaker: false }, store, hub.node("a"))
      state.down = true
      yield* Effect.exit(cache.set(Items, "k", "v"))
      yield* Effect.exit(cache.delete(Items, "k"))
      yield* Effect.exit(cache.invalidateTag("t"))
      yield* Effect.exit(cache.clear(Items))
      assert.deepStrictEqual(hub.published, [])
      state.down = false
      yield* cache.set(Items, "k", "v")
      assert.deepStrictEqual(
        hub.published.map((p) => p.message._tag),
        ["InvalidateKeys"],
      )
    }),
  )
})
