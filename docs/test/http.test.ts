import { describe, expect, it } from "vitest"
import * as CachedFetchSample from "../samples/http/cached-fetch.ts"
import * as ExpressSample from "../samples/http/express.ts"
import * as FastifySample from "../samples/http/fastify.ts"
import * as HonoSample from "../samples/http/hono.ts"
import * as NodeSample from "../samples/http/node.ts"

// "../samples/http/listen.ts" and "../samples/http/pages.ts" are the helpers every server sample runs.

describe("HTTP caching samples", () => {
  it("cachedFetch: ten concurrent callers make one upstream call; stale while the upstream fails; typed failure", async () => {
    expect(await CachedFetchSample.main()).toEqual({
      burst: 10,
      forecastCalls: 1,
      again: ["HIT", 4],
      whileDown: "STALE",
      failure: "UpstreamFailed: unreachable",
    })
  })

  for (const [name, sample] of [
    ["node:http", NodeSample],
    ["Express", ExpressSample],
    ["Fastify", FastifySample],
    ["Hono", HonoSample],
  ] as const)
    it(`${name}: a hit for the same page with its query reordered, a miss after the product's tag, 404 cached`, async () => {
      expect(await sample.main()).toEqual({
        first: "200 MISS",
        second: "200 HIT",
        afterUpdate: "200 MISS",
        missing: ["404 MISS", "404 HIT"],
        renders: 3,
      })
    })
})
