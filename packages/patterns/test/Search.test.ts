import { Cache, InvalidKey } from "@strata/core"
import { createSearch, Search } from "@strata/patterns"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { tiers } from "./helpers.ts"

const Filters = Schema.Struct({
  brands: Schema.Array(Schema.String),
  maxPrice: Schema.optional(Schema.Int),
})

const ProductSearch = Search.define({
  name: "search.product",
  filters: Filters,
  value: Schema.Array(Schema.Int),
  ttl: "30 seconds",
  tags: () => ["catalog"],
  normalise: { unordered: ["brands"] },
})

const CaseSensitive = Search.define({
  name: "search.code",
  filters: Schema.Struct({}),
  value: Schema.Array(Schema.Int),
  ttl: "30 seconds",
  normalise: { case: "preserve", whitespace: "preserve" },
})

/** The search engine: records the searches it ran (normalised). */
const makeEngine = () => {
  const ran: Array<Search.Params<unknown>> = []
  return {
    ran,
    search: async (params: Search.Params<unknown>) => {
      ran.push(params)
      return [params.page, params.query.length]
    },
  }
}

const t = tiers()
beforeAll(t.start)
beforeEach(t.reset)
afterAll(t.stop)

describe.each(t.all)("search results ($name)", (tier) => {
  it("the same search typed differently is one key: case, whitespace, filter order and duplicates", async () => {
    const engine = makeEngine()
    const search = createSearch(await tier.open(), ProductSearch, engine.search)
    await search.get({ query: "  Green   TEA ", filters: { brands: ["b", "a", "b"] }, page: 0 })
    await search.get({ query: "green tea", filters: { brands: ["a", "b"] }, page: 0 })
    expect(engine.ran).toEqual([{ query: "green tea", filters: { brands: ["a", "b"] }, page: 0 }])
    await search.get({ query: "green tea", filters: { brands: ["a", "b"], maxPrice: 500 }, page: 0 })
    await search.get({ query: "green tea", filters: { brands: ["a", "b"] }, page: 1 })
    expect(engine.ran).toHaveLength(3)
  })

  it("normalisation is what the definition declares: preserved case and whitespace are distinct keys", async () => {
    const engine = makeEngine()
    const search = createSearch(await tier.open(), CaseSensitive, engine.search)
    await search.get({ query: "ABC", filters: {}, page: 0 })
    await search.get({ query: "abc", filters: {}, page: 0 })
    await search.get({ query: " abc", filters: {}, page: 0 })
    expect(engine.ran.map((p) => p.query)).toEqual(["ABC", "abc", " abc"])
  })

  it("a catalog change drops every cached search by tag; invalidateAll and invalidate too", async () => {
    const engine = makeEngine()
    const cache = await tier.open()
    const search = createSearch(cache, ProductSearch, engine.search)
    const a = { query: "tea", filters: { brands: [] }, page: 0 }
    const b = { query: "coffee", filters: { brands: [] }, page: 0 }
    await search.get(a)
    await search.get(b)
    await cache.invalidateTag("catalog")
    await search.get(a)
    await search.get(b)
    await search.invalidateAll()
    await search.get(a)
    await search.invalidate({ ...a, query: " TEA " })
    await search.get(a)
    await search.get(b)
    expect(engine.ran.map((p) => p.query)).toEqual(["tea", "coffee", "tea", "coffee", "tea", "tea", "coffee"])
  })

  it("a long query gets a hashed storage key of at most 256 characters and still round-trips", async () => {
    const engine = makeEngine()
    const long = `tea ${"x".repeat(3_000)}`
    const params = { query: long, filters: { brands: ["a"] }, page: 0 }
    const key = ProductSearch.keyspace.storeKey(ProductSearch.normalise(params))
    expect(key.length).toBeLessThanOrEqual(256)
    expect(key).toContain("#")
    const search = createSearch(await tier.open(), ProductSearch, engine.search)
    expect(await search.get(params)).toEqual([0, long.length])
    expect(await search.get({ ...params, query: `${long}y` })).toEqual([0, long.length + 1])
    expect(await search.get(params)).toEqual([0, long.length])
    expect(engine.ran).toHaveLength(2)
  })

  it("a negative page or a filter off its schema is InvalidKey, before the search runs", async () => {
    const engine = makeEngine()
    const search = createSearch(await tier.open(), ProductSearch, engine.search)
    await expect(search.get({ query: "tea", filters: { brands: [] }, page: -1 })).rejects.toBeInstanceOf(
      InvalidKey,
    )
    await expect(
      search.get({ query: "tea", filters: { brands: [1 as unknown as string] }, page: 0 }),
    ).rejects.toBeInstanceOf(InvalidKey)
    await expect(search.get(null as unknown as Search.Params<{ brands: [] }>)).rejects.toBeInstanceOf(
      InvalidKey,
    )
    expect(engine.ran).toEqual([])
  })

  it("the TTL is the definition's", () => {
    expect(ProductSearch.keyspace.ttlMillis).toBe(30_000)
  })
})

describe("search over Redis", () => {
  it("a fresh process reads a cached search (long key included) without searching", async () => {
    const engine = makeEngine()
    const params = { query: "y".repeat(1_000), filters: { brands: ["z", "a"] }, page: 2 }
    await createSearch(await t.redis.open(), ProductSearch, engine.search).get(params)
    const other = makeEngine()
    const fresh = createSearch(await t.redis.open(), ProductSearch, other.search)
    expect(await fresh.get({ ...params, filters: { brands: ["a", "z"] } })).toEqual([2, 1_000])
    expect(other.ran).toEqual([])
  })
})

describe("Search.make (Effect form)", () => {
  it("runs the search with the normalised params once", async () => {
    const seen: Array<string> = []
    const program = Effect.gen(function* () {
      const search = yield* Search.make(ProductSearch, (params) =>
        Effect.sync(() => {
          seen.push(params.query)
          return [1]
        }),
      )
      yield* search.get({ query: "Tea ", filters: { brands: [] }, page: 0 })
      return yield* search.get({ query: "tea", filters: { brands: [] }, page: 0 })
    })
    expect(await Effect.runPromise(program.pipe(Effect.provide(Cache.layer())))).toEqual([1])
    expect(seen).toEqual(["tea"])
  })
})
