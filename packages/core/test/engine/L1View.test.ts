import { assert, describe, it } from "@effect/vitest"
import { Cache, MemoryStore, type Store } from "@strata/core"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import { Items } from "./fixtures.ts"

describe("the L1 view", () => {
  it.effect("without a bus, L1 in front of a shared store keeps copies fresh for 5 s at most", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const shared: Store.Service = { ...store, capabilities: { ...store.capabilities, local: false } }
      const cache = yield* Cache.make({}, shared)
      yield* cache.set(Items, "k", "v")
      yield* TestClock.adjust(4_999)
      assert.strictEqual(cache.peekUnsafe(Items, "k"), "v")
      yield* TestClock.adjust(1)
      assert.strictEqual(cache.peekUnsafe(Items, "k"), undefined)
      assert.deepStrictEqual(yield* cache.get(Items, "k"), Option.some("v"))
    }),
  )
})
