import { Cache, Keyspace, LoaderFailed } from "@strata/core"
import { createQueryCache, QueryCache } from "@strata/patterns"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { tiers } from "./helpers.ts"

const TopProducts = Keyspace.make({
  name: "qc.top-products",
  key: Schema.Struct({ categoryId: Schema.Int, page: Schema.Int }),
  value: Schema.Array(Schema.Struct({ id: Schema.Int, name: Schema.String })),
  ttl: "1 minute",
  tags: ({ categoryId }) => [`category:${categoryId}`],
})

/** The query: 2 products a page, counting its runs. */
const makeDb = () => {
  const runs: Array<string> = []
  return {
    runs,
    topProducts: async ({ categoryId, page }: { categoryId: number; page: number }) => {
      runs.push(`${categoryId}/${page}`)
      await new Promise((resolve) => setImmediate(resolve))
      return [0, 1].map((i) => ({ id: categoryId * 100 + page * 2 + i, name: `P${page * 2 + i}` }))
    },
  }
}

const t = tiers()
beforeAll(t.start)
beforeEach(t.reset)
afterAll(t.stop)

describe.each(t.all)("query caching ($name)", (tier) => {
  it("a query runs once per parameters, for concurrent callers too", async () => {
    const db = makeDb()
    const top = createQueryCache(await tier.open(), TopProducts, db.topProducts)
    const [a, b] = await Promise.all([
      top.get({ categoryId: 1, page: 0 }),
      top.get({ categoryId: 1, page: 0 }),
    ])
    expect(a).toEqual(b)
    expect(await top.get({ categoryId: 1, page: 1 })).toEqual([
      { id: 102, name: "P2" },
      { id: 103, name: "P3" },
    ])
    await top.get({ categoryId: 1, page: 0 })
    expect(db.runs).toEqual(["1/0", "1/1"])
  })

  it("a category's tag drops every page of its queries, and only those", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const top = createQueryCache(cache, TopProducts, db.topProducts)
    for (const params of [
      { categoryId: 1, page: 0 },
      { categoryId: 1, page: 1 },
      { categoryId: 2, page: 0 },
    ])
      await top.get(params)
    await cache.invalidateTag("category:1")
    await top.get({ categoryId: 1, page: 0 })
    await top.get({ categoryId: 1, page: 1 })
    await top.get({ categoryId: 2, page: 0 })
    expect(db.runs).toEqual(["1/0", "1/1", "2/0", "1/0", "1/1"])
  })

  it("a query that throws is LoaderFailed and is not cached; invalidate drops one result", async () => {
    const db = makeDb()
    let fail = true
    const top = createQueryCache(await tier.open(), TopProducts, (params) => {
      if (fail) throw new Error("timeout")
      return db.topProducts(params)
    })
    await expect(top.get({ categoryId: 3, page: 0 })).rejects.toBeInstanceOf(LoaderFailed)
    fail = false
    await top.get({ categoryId: 3, page: 0 })
    await top.invalidate({ categoryId: 3, page: 0 })
    await top.get({ categoryId: 3, page: 0 })
    expect(db.runs).toEqual(["3/0", "3/0"])
  })
})

describe("QueryCache.make (Effect form)", () => {
  it("caches the query's result through the Cache service", async () => {
    let runs = 0
    const program = Effect.gen(function* () {
      const top = yield* QueryCache.make(TopProducts, ({ categoryId }) =>
        Effect.sync(() => {
          runs++
          return [{ id: categoryId, name: "only" }]
        }),
      )
      yield* top.get({ categoryId: 5, page: 0 })
      return yield* top.get({ categoryId: 5, page: 0 })
    })
    expect(await Effect.runPromise(program.pipe(Effect.provide(Cache.layer())))).toEqual([
      { id: 5, name: "only" },
    ])
    expect(runs).toBe(1)
  })
})
