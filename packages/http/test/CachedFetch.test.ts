import { createCache, type StrataCache } from "@strata/core"
import { CachedFetch, HttpKeyspace, InvalidHttpInput, UpstreamFailed } from "@strata/http"
import { afterEach, describe, expect, it } from "vitest"
import { eventually, sleep, startUpstream, type Upstream } from "./support/upstream.ts"

const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const thing of opened.splice(0)) await thing.close()
})

const upstreamOf = async (...args: Parameters<typeof startUpstream>): Promise<Upstream> => {
  const upstream = await startUpstream(...args)
  opened.push(upstream)
  return upstream
}
const cacheOf = async (): Promise<StrataCache> => {
  const cache = await createCache()
  opened.push(cache)
  return cache
}
let names = 0
const keyspace = (options: Partial<HttpKeyspace.HttpKeyspaceOptions> = {}) =>
  HttpKeyspace.make({ name: `weather${names++}`, ttl: "1 minute", staleFor: "1 minute", ...options })

describe("CachedFetch: keyspace freshness", () => {
  it("answers from the cache after the first call, with Age and X-Cache", async () => {
    const upstream = await upstreamOf((req, res, n) => res.end(`forecast ${req.url} #${n}`))
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace() })
    const first = await get(`${upstream.url}/forecast?city=Oslo`)
    expect(first.headers.get("x-cache")).toBe("MISS")
    expect(await first.text()).toBe("forecast /forecast?city=Oslo #1")
    const second = await get(`${upstream.url}/forecast?city=Oslo`)
    expect(second.headers.get("x-cache")).toBe("HIT")
    expect(second.headers.get("age")).toBe("0")
    expect(await second.text()).toBe("forecast /forecast?city=Oslo #1")
    expect(await (await get(`${upstream.url}/forecast?city=Bergen`)).text()).toBe(
      "forecast /forecast?city=Bergen #2",
    )
    expect(upstream.count()).toBe(2)
  })

  it("makes one upstream call for 20 concurrent callers of a cold key", async () => {
    const upstream = await upstreamOf(async (_req, res, n) => {
      await sleep(150)
      res.end(`slow #${n}`)
    })
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace() })
    const bodies = await Promise.all(
      Array.from({ length: 20 }, () => get(`${upstream.url}/slow`).then((r) => r.text())),
    )
    expect(new Set(bodies)).toEqual(new Set(["slow #1"]))
    expect(upstream.count()).toBe(1)
  })

  it("keys by the chosen headers only", async () => {
    const upstream = await upstreamOf((req, res, n) => res.end(`${req.headers["accept-language"]} #${n}`))
    const get = CachedFetch.make({
      cache: await cacheOf(),
      keyspace: keyspace(),
      keyHeaders: ["Accept-Language"],
    })
    const ask = (lang: string, trace: string) =>
      get(`${upstream.url}/x`, { headers: { "accept-language": lang, "x-trace": trace } }).then((r) =>
        r.text(),
      )
    expect(await ask("nb", "1")).toBe("nb #1")
    expect(await ask("en", "2")).toBe("en #2")
    expect(await ask("nb", "3")).toBe("nb #1")
    expect(upstream.count()).toBe(2)
  })

  it("serves the stored response within staleFor when the upstream is down, and fails typed past it", async () => {
    const upstream = await upstreamOf((_req, res) => res.end("old"))
    const url = `${upstream.url}/w`
    const get = CachedFetch.make({
      cache: await cacheOf(),
      keyspace: keyspace({ ttl: 100, staleFor: 1_000 }),
    })
    await (await get(url)).text()
    await upstream.close()
    await sleep(150)
    const stale = await get(url)
    expect(stale.headers.get("x-cache")).toBe("STALE")
    expect(await stale.text()).toBe("old")
    await sleep(1_000)
    const error = await get(url).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UpstreamFailed)
    expect((error as UpstreamFailed).reason).toBe("unreachable")
  })

  it("serves the stored response within staleFor when the upstream answers 5xx, and the 5xx past it", async () => {
    let fail = false
    const upstream = await upstreamOf((_req, res) => {
      res.statusCode = fail ? 503 : 200
      res.end(fail ? "down" : "good")
    })
    const url = `${upstream.url}/w`
    const get = CachedFetch.make({
      cache: await cacheOf(),
      keyspace: keyspace({ ttl: 100, staleFor: 1_000 }),
    })
    await (await get(url)).text()
    fail = true
    await sleep(150)
    const stale = await get(url)
    expect([stale.headers.get("x-cache"), await stale.text()]).toEqual(["STALE", "good"])
    await sleep(1_000)
    const down = await get(url)
    expect([down.status, await down.text()]).toEqual([503, "down"])
  })

  it("sends non-GET methods and credentialed requests upstream every time", async () => {
    const upstream = await upstreamOf((req, res, n) => res.end(`${req.method} #${n}`))
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace() })
    for (let i = 0; i < 2; i++) await (await get(`${upstream.url}/p`, { method: "POST", body: "x" })).text()
    for (let i = 0; i < 2; i++)
      await (await get(`${upstream.url}/p`, { headers: { authorization: `Bearer ${i}` } })).text()
    for (let i = 0; i < 2; i++)
      await (await get(`${upstream.url}/p`, { headers: { cookie: `s=${i}` } })).text()
    expect(upstream.count()).toBe(6)
  })

  it("does not store a response with Set-Cookie, nor one over maxBodyBytes, and delivers both intact", async () => {
    const big = "x".repeat(5000)
    const upstream = await upstreamOf((req, res) => {
      if (req.url === "/cookie") res.setHeader("set-cookie", "session=secret")
      res.end(req.url === "/big" ? big : "small")
    })
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace(), maxBodyBytes: 4096 })
    for (let i = 0; i < 2; i++) {
      expect(await (await get(`${upstream.url}/big`)).text()).toBe(big)
      const withCookie = await get(`${upstream.url}/cookie`)
      expect(withCookie.headers.get("x-cache")).toBe("MISS")
      await withCookie.text()
    }
    expect(upstream.count()).toBe(4)
  })

  it("rejects a bad URL with InvalidHttpInput and answers a 64 KB header with the upstream's own refusal", async () => {
    const upstream = await upstreamOf((_req, res) => res.end("ok"))
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace(), keyHeaders: ["x-big"] })
    const error = await get("not a url").catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidHttpInput)
    expect((error as InvalidHttpInput).reason).toBe("url")
    const header = await get(`${upstream.url}/`, { headers: { "x-bad": "a\nb" } }).catch((e: unknown) => e)
    expect((header as InvalidHttpInput).reason).toBe("header")
    // Node's server refuses headers over 16 KB with 431: returned as is, never stored (not 2xx).
    for (let i = 0; i < 2; i++) {
      const response = await get(`${upstream.url}/`, { headers: { "x-big": "v".repeat(65_536) } })
      expect([response.status, response.headers.get("x-cache")]).toEqual([431, "MISS"])
    }
    expect(() =>
      CachedFetch.make({ cache: {} as StrataCache, keyspace: keyspace(), maxBodyBytes: -1 }),
    ).toThrow(InvalidHttpInput)
  })
})

describe("CachedFetch: Cache-Control (RFC 9111, RFC 5861)", () => {
  const headed = (cacheControl: string, extra: Record<string, string> = {}) =>
    upstreamOf((_req, res, n) => {
      res.setHeader("cache-control", cacheControl)
      for (const [name, value] of Object.entries(extra)) res.setHeader(name, value)
      res.end(`#${n}`)
    })

  it("keeps a response for its max-age and refetches after", async () => {
    const upstream = await headed("max-age=1")
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace(), freshness: "cache-control" })
    expect(await (await get(`${upstream.url}/a`)).text()).toBe("#1")
    expect(await (await get(`${upstream.url}/a`)).text()).toBe("#1")
    await sleep(1_100)
    expect(await (await get(`${upstream.url}/a`)).text()).toBe("#2")
  })

  it("keeps a response fresh for a year (immutable assets) like any other", async () => {
    const upstream = await headed("public, max-age=31536000, immutable")
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace(), freshness: "cache-control" })
    for (let i = 0; i < 3; i++) expect(await (await get(`${upstream.url}/asset.js`)).text()).toBe("#1")
  })

  it("never stores no-store, nor private in a shared cache; stores private when not shared", async () => {
    for (const [cc, shared, calls] of [
      ["no-store, max-age=60", true, 3],
      ["private, max-age=60", true, 3],
      ["private, max-age=60", false, 1],
    ] as const) {
      const upstream = await headed(cc)
      const get = CachedFetch.make({
        cache: await cacheOf(),
        keyspace: keyspace(),
        freshness: "cache-control",
        shared,
      })
      for (let i = 0; i < 3; i++) await (await get(`${upstream.url}/a`)).text()
      expect([cc, shared, upstream.count()]).toEqual([cc, shared, calls])
    }
  })

  it("uses s-maxage over max-age only as a shared cache", async () => {
    for (const [shared, calls] of [
      [true, 2],
      [false, 1],
    ] as const) {
      const upstream = await headed("max-age=60, s-maxage=0")
      const get = CachedFetch.make({
        cache: await cacheOf(),
        keyspace: keyspace(),
        freshness: "cache-control",
        shared,
      })
      for (let i = 0; i < 2; i++) await (await get(`${upstream.url}/a`)).text()
      expect([shared, upstream.count()]).toEqual([shared, calls])
    }
  })

  it("revalidates with ETag: a 304 refreshes the entry and its body is served", async () => {
    const upstream = await upstreamOf((req, res) => {
      res.setHeader("cache-control", "max-age=1")
      res.setHeader("etag", '"v1"')
      if (req.headers["if-none-match"] === '"v1"') {
        res.statusCode = 304
        res.end()
      } else res.end("body v1")
    })
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace(), freshness: "cache-control" })
    expect(await (await get(`${upstream.url}/e`)).text()).toBe("body v1")
    await sleep(1_100)
    const revalidated = await get(`${upstream.url}/e`)
    expect([revalidated.status, revalidated.headers.get("x-cache"), await revalidated.text()]).toEqual([
      200,
      "REVALIDATED",
      "body v1",
    ])
    expect(upstream.received[1]?.headers["if-none-match"]).toBe('"v1"')
    const hit = await get(`${upstream.url}/e`)
    expect([hit.headers.get("x-cache"), await hit.text()]).toEqual(["HIT", "body v1"])
    expect(upstream.count()).toBe(2)
  })

  it("revalidates with Last-Modified in keyspace mode too", async () => {
    const modified = new Date(Date.now() - 3_600_000).toUTCString()
    const upstream = await upstreamOf((req, res) => {
      res.setHeader("last-modified", modified)
      if (req.headers["if-modified-since"] === modified) {
        res.statusCode = 304
        res.end()
      } else res.end("page")
    })
    const get = CachedFetch.make({
      cache: await cacheOf(),
      keyspace: keyspace({ ttl: 100, staleFor: 10_000 }),
    })
    await (await get(`${upstream.url}/m`)).text()
    await sleep(150)
    const again = await get(`${upstream.url}/m`)
    expect([again.headers.get("x-cache"), await again.text()]).toEqual(["REVALIDATED", "page"])
    expect(upstream.received[1]?.headers["if-modified-since"]).toBe(modified)
  })

  it("serves stale while revalidating in the background", async () => {
    const upstream = await headed("max-age=1, stale-while-revalidate=30")
    const get = CachedFetch.make({ cache: await cacheOf(), keyspace: keyspace(), freshness: "cache-control" })
    await (await get(`${upstream.url}/s`)).text()
    await sleep(1_100)
    const stale = await get(`${upstream.url}/s`)
    expect([stale.headers.get("x-cache"), await stale.text()]).toEqual(["STALE", "#1"])
    expect(await eventually(() => upstream.count() === 2)).toBe(true)
    await sleep(50)
    expect(await (await get(`${upstream.url}/s`)).text()).toBe("#2")
  })

  it("serves stale within stale-if-error when the upstream fails, and not past it", async () => {
    let fail = false
    const upstream = await upstreamOf((_req, res) => {
      res.setHeader("cache-control", "max-age=1, stale-if-error=1")
      res.statusCode = fail ? 500 : 200
      res.end(fail ? "broken" : "kept")
    })
    const get = CachedFetch.make({
      cache: await cacheOf(),
      keyspace: keyspace({ staleFor: 0 }),
      freshness: "cache-control",
    })
    await (await get(`${upstream.url}/f`)).text()
    fail = true
    await sleep(1_100)
    const stale = await get(`${upstream.url}/f`)
    expect([stale.headers.get("x-cache"), await stale.text()]).toEqual(["STALE", "kept"])
    await sleep(1_000)
    const broken = await get(`${upstream.url}/f`)
    expect([broken.status, await broken.text()]).toEqual([500, "broken"])
  })

  it("treats a malformed Cache-Control as no freshness: nothing served stale, no crash", async () => {
    const upstream = await headed("max-age=abc, ,,=, no-cache=")
    const get = CachedFetch.make({
      cache: await cacheOf(),
      keyspace: keyspace({ staleFor: 0 }),
      freshness: "cache-control",
    })
    for (let i = 1; i <= 2; i++) expect(await (await get(`${upstream.url}/x`)).text()).toBe(`#${i}`)
  })
})
