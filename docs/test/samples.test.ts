import { readFileSync } from "node:fs"
import { RedisHarness } from "@strata/testkit/servers"
import { describe, expect, it } from "vitest"
import * as EffectApi from "../samples/effect-api.ts"
import * as Errors from "../samples/errors.ts"
import * as FailSafe from "../samples/fail-safe.ts"
import * as FirstKeyspace from "../samples/first-keyspace.ts"
import * as QuickStart from "../samples/quick-start.ts"
import * as RedisTier from "../samples/redis-tier.ts"
import * as Stampede from "../samples/stampede.ts"
import * as Tiers from "../samples/tiers.ts"

describe("docs samples", () => {
  it("the README's quick-start sample runs and returns the typed profile", async () => {
    expect(await QuickStart.main()).toEqual({ name: "User 42", plan: "pro" })
  })

  it("the README shows the quick-start sample exactly as it is tested", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8")
    const sample = readFileSync(new URL("../samples/quick-start.ts", import.meta.url), "utf8")
    expect(readme).toContain(sample.trim())
  })

  it("the Effect API sample runs", async () => {
    expect(await EffectApi.main()).toEqual({
      product: { id: 7, name: "Product 7", priceCents: 1_999 },
      cached: true,
    })
  })

  it("the first keyspace: the canonical storage key, and a wrong key is InvalidKey", () => {
    expect(FirstKeyspace.main()).toEqual({
      namespace: "user.profile:v2",
      storageKey: "userId=42",
      wrongKey: "InvalidKey",
    })
  })

  it("tiers: L1 answers the second read; with l1: false the shared tier answers both", async () => {
    expect(await Tiers.main()).toEqual([
      { hitsL1: 2, hitsL2: 0 },
      { hitsL1: 2, hitsL2: 0 },
      { hitsL1: 0, hitsL2: 2 },
    ])
  })

  it("stampede: 500 concurrent callers of a cold key, one loader call", async () => {
    expect(await Stampede.main()).toEqual({ answers: 500, loaderCalls: 1, loads: 1, coalesced: 499 })
  })

  it("fail-safe: the stale value while the loader fails and after the soft timeout, then the refreshed one", async () => {
    const result = await FailSafe.main()
    expect(result.whileDown).toEqual({ rate: 1.08 })
    expect(result.whileSlow).toEqual({ rate: 1.08 })
    expect(result.waitedMillis).toBeLessThan(250)
    expect(result.afterRefresh).toEqual({ rate: 1.09 })
    expect(result.staleServed).toEqual(["loader failed", "soft timeout"])
  })

  it("errors: a value that fails its schema is InvalidValue, in Promise and Effect code", async () => {
    expect(await Errors.main()).toEqual({
      promise: "rejected: InvalidValue",
      effect: "rejected: InvalidValue",
    })
  })

  it("the Redis tier sample runs against a real redis-server", async () => {
    const server = await RedisHarness.startRedis()
    try {
      expect(await RedisTier.main(server.url)).toEqual({ userId: 7, roles: ["admin"] })
    } finally {
      await RedisHarness.stopAll([server])
    }
  })
})
