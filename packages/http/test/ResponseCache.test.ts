import { createCache, EntryTooLarge, type StrataCache } from "@strata/core"
import { HttpKeyspace, InvalidHttpInput, ResponseCache } from "@strata/http"
import { afterEach, describe, expect, it } from "vitest"
import { sleep } from "./support/upstream.ts"

const opened: Array<StrataCache> = []
afterEach(async () => {
  for (const cache of opened.splice(0)) await cache.close()
})
let names = 0
const setup = async (
  options: Partial<ResponseCache.ResponseCacheOptions> = {},
  cacheOptions = {},
  ttl: number | "1 minute" = "1 minute",
) => {
  const cache = await createCache(cacheOptions)
  opened.push(cache)
  const keyspace = HttpKeyspace.make({ name: `core${names++}`, ttl, staleFor: "10 seconds" })
  return ResponseCache.make({ cache, keyspace, ...options })
}
const request = (url: string, headers: Record<string, string> = {}, method = "GET") => ({
  method,
  url,
  header: (name: string) => headers[name],
})
const ok = (body: string, headers: Array<readonly [string, string]> = []) => ({
  status: 200,
  headers: [["content-type", "text/plain"] as const, ...headers],
  body: new TextEncoder().encode(body),
})

describe("ResponseCache", () => {
  it("serves the stale copy while one request renders the page again, then the new one", async () => {
    const pages = await setup({}, {}, 100)
    const first = await pages.lookup(request("/p"))
    if (first.kind !== "miss") throw new Error(`expected a miss, got ${first.kind}`)
    await first.pending.store(ok("v1"))
    await sleep(150)
    const renderer = await pages.lookup(request("/p"))
    expect(renderer.kind).toBe("miss")
    const other = await pages.lookup(request("/p"))
    if (other.kind !== "hit") throw new Error(`expected a stale hit, got ${other.kind}`)
    expect(other.served.headers).toContainEqual(["x-cache", "STALE"])
    expect(new TextDecoder().decode(other.served.body)).toBe("v1")
    if (renderer.kind === "miss") await renderer.pending.store(ok("v2"))
    const now = await pages.lookup(request("/p"))
    if (now.kind !== "hit") throw new Error(`expected a hit, got ${now.kind}`)
    expect(new TextDecoder().decode(now.served.body)).toBe("v2")
    expect(now.served.headers).toContainEqual(["x-cache", "HIT"])
  })

  it("keys 64 KB header values named by Vary apart, and an identity of 64 KB too", async () => {
    const pages = await setup({ identity: (r) => r.header("authorization") })
    const big = (c: string) => c.repeat(65_536)
    const miss = await pages.lookup(request("/v", { "accept-language": big("a"), authorization: big("u") }))
    if (miss.kind !== "miss") throw new Error("expected a miss")
    await miss.pending.store(ok("a", [["vary", "Accept-Language"]]))
    expect(
      (await pages.lookup(request("/v", { "accept-language": big("a"), authorization: big("u") }))).kind,
    ).toBe("hit")
    expect(
      (await pages.lookup(request("/v", { "accept-language": big("b"), authorization: big("u") }))).kind,
    ).toBe("miss")
    expect(
      (await pages.lookup(request("/v", { "accept-language": big("a"), authorization: big("w") }))).kind,
    ).toBe("miss")
  })

  it("stays out of the way of other methods, of credentials without identity, and of an unparsable URL", async () => {
    const pages = await setup()
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
      expect((await pages.lookup(request("/x", {}, method))).kind).toBe("bypass")
    expect((await pages.lookup(request("/x", { authorization: "Bearer a" }))).kind).toBe("bypass")
    expect((await pages.lookup(request("/x", { cookie: "s=1" }))).kind).toBe("bypass")
    expect((await pages.lookup(request("http://[::1"))).kind).toBe("bypass")
  })

  it("reports a response too large for the cache to onStoreError, typed", async () => {
    const errors: Array<unknown> = []
    const pages = await setup({ onStoreError: (error) => errors.push(error) }, { maxEntryBytes: 1_000 })
    const miss = await pages.lookup(request("/big"))
    if (miss.kind !== "miss") throw new Error("expected a miss")
    pages.finish(miss.pending, ok("x".repeat(5_000)))
    for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(10)
    expect(errors[0]).toBeInstanceOf(EntryTooLarge)
    expect((await pages.lookup(request("/big"))).kind).toBe("miss")
  })

  it("refuses bad options with InvalidHttpInput", async () => {
    await expect(setup({ maxBodyBytes: -1 })).rejects.toBeInstanceOf(InvalidHttpInput)
    await expect(setup({ statuses: [302 as 301] })).rejects.toMatchObject({ reason: "option" })
  })
})
