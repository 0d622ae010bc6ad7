import { createCache, InvalidKeyspace } from "@strata/core"
import { HttpKeyspace } from "@strata/http"
import { describe, expect, it } from "vitest"

describe("HttpKeyspace", () => {
  it("declares the entries and their companion keyspaces under one name", () => {
    const pages = HttpKeyspace.make({ name: "pages", ttl: "1 minute", staleFor: "1 hour", version: 3 })
    expect([pages.entries.id, pages.refreshes.id, pages.variants.id]).toEqual([
      "pages:v3",
      "pages.refresh:v3",
      "pages.vary:v3",
    ])
    expect([pages.entries.ttlMillis, pages.entries.staleForMillis]).toEqual([60_000, 3_600_000])
    expect(pages.variants.ttlMillis).toBe(3_660_000)
  })

  it("throws InvalidKeyspace for a bad name or duration when it is declared", () => {
    expect(() => HttpKeyspace.make({ name: "Bad Name", ttl: 1_000 })).toThrow(InvalidKeyspace)
    expect(() => HttpKeyspace.make({ name: "ok", ttl: -1 })).toThrow(InvalidKeyspace)
  })

  it("tags the Vary lists like the pages, so a tag drops both", async () => {
    const pages = HttpKeyspace.make({ name: "tagged", ttl: "1 minute", tags: ({ url }) => [`url:${url}`] })
    const cache = await createCache()
    const variants = cache.keyspace(pages.variants)
    await variants.set({ method: "GET", url: "/a", identity: "" }, ["accept-language"])
    await variants.set({ method: "GET", url: "/b", identity: "" }, [])
    await cache.invalidateTag("url:/a")
    expect(await variants.get({ method: "GET", url: "/a", identity: "" })).toBeUndefined()
    expect(await variants.get({ method: "GET", url: "/b", identity: "" })).toEqual([])
    await cache.close()
  })

  it("writes selecting headers as one `name: value` line each, in the order given", () => {
    const headers: Record<string, string> = { "accept-language": "nb", accept: "text/html" }
    expect(
      HttpKeyspace.selectingHeaders(["accept", "accept-language", "x-none"], (name) => headers[name]),
    ).toBe("accept: text/html\naccept-language: nb\nx-none: ")
  })
})
