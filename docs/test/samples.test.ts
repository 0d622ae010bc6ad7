import { readFileSync } from "node:fs"
import { RedisHarness } from "@strata/testkit/servers"
import { describe, expect, it } from "vitest"
import * as EffectApi from "../samples/effect-api.ts"
import * as QuickStart from "../samples/quick-start.ts"
import * as RedisTier from "../samples/redis-tier.ts"

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

  it("the Redis tier sample runs against a real redis-server", async () => {
    const server = await RedisHarness.startRedis()
    try {
      expect(await RedisTier.main(server.url)).toEqual({ userId: 7, roles: ["admin"] })
    } finally {
      await RedisHarness.stopAll([server])
    }
  })
})
