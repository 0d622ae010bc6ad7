import { describe, expect, it } from "vitest"
import * as CacheAside from "../samples/patterns/cache-aside.ts"
import * as Counters from "../samples/patterns/counters.ts"
import * as ReadThrough from "../samples/patterns/read-through.ts"
import * as Tags from "../samples/patterns/tags.ts"

describe("pattern samples", () => {
  it("cache-aside: one database read per change, the stale product while the database is down", async () => {
    const green = { id: 7, name: "Green tea", priceCents: 450 }
    expect(await CacheAside.main()).toEqual({
      first: green,
      cached: green,
      afterWrite: { ...green, priceCents: 500 },
      whileDown: { ...green, priceCents: 500 },
      reads: 3, // first load, the load after the write, the failed load while down
    })
  })

  it("read-through: getMany then one batch query for the misses only", async () => {
    expect(await ReadThrough.main()).toEqual({
      one: { id: 1, name: "User 1" },
      names: ["User 1", "User 2", "User 3"],
      again: [3, 2, 1],
      queries: [[1], [2, 3]],
    })
  })

  it("tags: one invalidation drops every entry carrying the tag, and only those", async () => {
    expect(await Tags.main()).toEqual({
      page1: undefined,
      page2: { sku: "tea-02", html: "<h1>Black tea</h1>" },
      listing: [undefined, undefined, undefined],
    })
  })

  it("counters: 200 concurrent increments count 200; a negative step subtracts", async () => {
    expect(await Counters.main()).toEqual({ afterBurst: 200, afterCorrection: 197 })
  })
})
