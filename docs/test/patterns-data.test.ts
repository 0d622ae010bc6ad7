import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { RedisHarness } from "@strata/testkit/servers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Lists from "../samples/patterns/lists.ts"
import * as Repository from "../samples/patterns/repository.ts"
import * as SearchSample from "../samples/patterns/search.ts"
import * as WriteThrough from "../samples/patterns/write-through.ts"

// The samples of @strata/patterns' data-access pages, each on the memory tier and on L1 + a real Redis.
let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(() => RedisHarness.stopAll([server]))

describe.each([
  ["memory", (): string | undefined => undefined],
  ["redis", (): string | undefined => server.url],
] as const)("@strata/patterns samples (%s)", (_tier, url) => {
  it("repository: batched misses, one query per batch, not found is undefined", async () => {
    expect(await Repository.main(url())).toEqual({
      first: ["Product 3", "Product 1", "Product 2"],
      second: [2, 4, undefined, 4],
      five: 500,
      one: "Product 1",
      queries: [[3, 1, 2], [4, 99], [5]],
    })
  })

  it("write-through: the committed row is cached with its summary, its category page dropped; a rollback changes nothing", async () => {
    const green = { id: 7, name: "Green tea", categoryId: 1, version: 2 }
    expect(await WriteThrough.main(url())).toEqual({
      renamed: green,
      rolledBack: "name must not be empty: rolled back",
      cached: green,
      summary: { name: "Green tea", version: 2 },
      categoryPage: undefined,
    })
  })

  it("lists: a query result and an ID list cached; a new product drops its category's lists by tag", async () => {
    expect(await Lists.main(url())).toEqual({
      count: 3,
      page0: ["Product 1", "Product 2"],
      page1: [3, 4],
      countAfter: 4,
      log: [
        "COUNT category 1",
        "SELECT ids category 1 page 0",
        "SELECT products 1,2",
        "SELECT ids category 1 page 1",
        "SELECT products 3",
        "COUNT category 1",
      ],
    })
  })

  it("search: one key per normalised search, pages apart, dropped by the catalog tag", async () => {
    expect(await SearchSample.main(url())).toEqual({
      page1: [11, 12],
      searches: ["green tea [leafy,teapot] p0", "green tea [leafy,teapot] p1", "green tea [leafy,teapot] p0"],
    })
  })

  it("computed: a lazy total per object, a rating cached across objects until its tag drops it", async () => {
    // The sample uses decorator syntax, which Vitest's transform leaves to Node 20 (a syntax error): tsx runs it.
    const sample = fileURLToPath(new URL("../samples/patterns/computed.ts", import.meta.url))
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url))
    const { REDIS_URL: _, ...inherited } = process.env
    const redisUrl = url()
    const { stdout } = await promisify(execFile)(tsx, ["--conditions=@strata/source", sample], {
      env: redisUrl === undefined ? inherited : { ...inherited, REDIS_URL: redisUrl },
      timeout: 60_000,
    })
    expect(JSON.parse(stdout)).toEqual({ total: 2100, ratings: [4.7, 4.7, 4.7], queries: 2 })
  })
})
