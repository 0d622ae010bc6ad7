import { createCache, MemoryStore } from "@strata/core"
import { createSession, Session } from "@strata/patterns"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { addOne, Cart } from "./fixtures.ts"

const Carts = Session.make({
  name: "test.client.cart",
  key: Schema.Int,
  value: Cart,
  idleTimeout: "1 minute",
  user: (userId) => userId,
})

describe("createSession: the Promise form", () => {
  it("concurrent changes are all kept; dropUser drops the data; a throwing change rejects with LoaderFailed", async () => {
    const cache = await createCache({ l2: MemoryStore.layer() })
    try {
      const carts = createSession(cache, Carts)
      expect(await carts.get(1)).toBeUndefined()
      await Promise.all(["a", "b", "c", "a"].map((sku) => carts.update(1, addOne(sku))))
      expect(await carts.get(1)).toEqual({ items: { a: 2, b: 1, c: 1 } })
      await expect(
        carts.update(1, () => {
          throw new Error("no")
        }),
      ).rejects.toMatchObject({ _tag: "LoaderFailed" })
      await carts.dropUser(1)
      expect(await carts.get(1)).toBeUndefined()
      await carts.update(2, addOne("x"))
      await carts.remove(2)
      expect(await carts.get(2)).toBeUndefined()
    } finally {
      await cache.close()
    }
  })
})
