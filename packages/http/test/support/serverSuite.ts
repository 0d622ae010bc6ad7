/**
 * The behaviour every server adapter must show, run against a real
 * framework on a loopback port with real requests (fetch). Each adapter's
 * test file is one call of {@link serverSuite}.
 */
import { createCache, type StrataCache } from "@strata/core"
import { HttpKeyspace, ResponseCache } from "@strata/http"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type RunningApp, STREAM_BYTES } from "./app.ts"
import type { StartApp } from "./frameworks.ts"

const get = async (app: RunningApp, path: string, init: RequestInit = {}) => {
  const response = await fetch(`${app.url}${path}`, init)
  return { response, body: await response.text(), cache: response.headers.get("x-cache") }
}

export const serverSuite = (name: string, start: StartApp) =>
  describe(`response cache through ${name}`, () => {
    let cache: StrataCache
    let plain: RunningApp
    let keyed: RunningApp
    let run = 0
    const fresh = () => `/run${run++}`

    beforeAll(async () => {
      cache = await createCache()
      const keyspace = HttpKeyspace.make({
        name: `pages-${name.replace(/[^a-z0-9]/g, "")}`,
        ttl: "1 minute",
        tags: (key) => {
          const id = /\/tagged\/(\d+)/.exec(key.url)?.[1]
          return id === undefined ? [] : [`product:${id}`]
        },
      })
      plain = await start(ResponseCache.make({ cache, keyspace, statuses: [404], maxBodyBytes: 4096 }))
      const keyedSpace = HttpKeyspace.make({
        name: `keyed-${name.replace(/[^a-z0-9]/g, "")}`,
        ttl: "1 minute",
      })
      keyed = await start(
        ResponseCache.make({
          cache,
          keyspace: keyedSpace,
          identity: (request) => request.header("authorization") ?? request.header("cookie"),
        }),
      )
    })
    afterAll(async () => {
      await plain?.close()
      await keyed?.close()
      await cache?.close()
    })

    it("renders a GET once and serves it again with Age, ETag and X-Cache: HIT", async () => {
      const path = `${fresh()}/home`
      const miss = await get(plain, path)
      const hit = await get(plain, path)
      expect([miss.cache, hit.cache]).toEqual(["MISS", "HIT"])
      expect(hit.body).toBe(miss.body)
      expect(hit.response.headers.get("age")).toMatch(/^\d+$/)
      expect(hit.response.headers.get("etag")).toMatch(/^(W\/)?"/)
      expect(hit.response.headers.get("content-type")).toBe("text/plain; charset=utf-8")
    })

    it("keys by the sorted query: ?b=2&a=1 is ?a=1&b=2, ?a=2 is not", async () => {
      const base = `${fresh()}/q`
      const first = await get(plain, `${base}?a=1&b=2`)
      expect((await get(plain, `${base}?b=2&a=1`)).body).toBe(first.body)
      expect((await get(plain, `${base}?a=2&b=2`)).cache).toBe("MISS")
    })

    it("answers HEAD from the GET entry without a body, and If-None-Match with 304", async () => {
      const path = `${fresh()}/cond`
      await get(plain, path)
      const head = await get(plain, path, { method: "HEAD" })
      expect([head.cache, head.body]).toEqual(["HIT", ""])
      const etag = (await get(plain, path)).response.headers.get("etag") ?? ""
      const conditional = await get(plain, path, { headers: { "if-none-match": etag } })
      expect([conditional.response.status, conditional.body, conditional.cache]).toEqual([304, "", "HIT"])
      const other = await get(plain, path, { headers: { "if-none-match": '"other"' } })
      expect(other.response.status).toBe(200)
    })

    it("never caches POST, nor credentialed requests without an identity", async () => {
      const path = `${fresh()}/user`
      const before = plain.renders()
      await get(plain, path, { method: "POST", body: "x" })
      await get(plain, path, { method: "POST", body: "x" })
      const alice = await get(plain, path, { headers: { authorization: "Bearer alice" } })
      const bob = await get(plain, path, { headers: { authorization: "Bearer bob" } })
      const carol = await get(plain, path, { headers: { cookie: "s=carol" } })
      expect([alice.body, bob.body, carol.body].map((b) => b.split(" ")[0])).toEqual([
        "user=Bearer",
        "user=Bearer",
        "user=s=carol",
      ])
      expect(bob.body).toContain("bob")
      expect((await get(plain, path)).cache).toBe("MISS")
      expect(plain.renders() - before).toBe(6)
    })

    it("never stores Set-Cookie, private, no-store or a malformed Cache-Control", async () => {
      const run = fresh()
      for (const route of ["cookie", "private", "nostore", "malformed"]) {
        const first = await get(plain, `${run}/${route}`)
        const second = await get(plain, `${run}/${route}`)
        expect([route, second.cache, second.body === first.body]).toEqual([route, "MISS", false])
      }
      const cookies = await get(plain, `${run}/cookie`)
      expect(cookies.response.headers.get("set-cookie")).toMatch(/^session=\d+/)
    })

    it("stores 404 when opted in, and not 301", async () => {
      const run = fresh()
      await get(plain, `${run}/missing`)
      const missing = await get(plain, `${run}/missing`)
      expect([missing.response.status, missing.cache]).toEqual([404, "HIT"])
      await get(plain, `${run}/moved`, { redirect: "manual" })
      expect((await get(plain, `${run}/moved`, { redirect: "manual" })).cache).toBe("MISS")
    })

    it("delivers a streamed body past maxBodyBytes intact and does not store it", async () => {
      const path = `${fresh()}/stream`
      for (let i = 0; i < 2; i++) {
        const streamed = await get(plain, path)
        expect([streamed.body.length, streamed.cache]).toEqual([STREAM_BYTES, "MISS"])
        expect(streamed.body).toBe(Array.from({ length: 10 }, (_, d) => String(d).repeat(1_000)).join(""))
      }
    })

    it("keys by the headers Vary names", async () => {
      const path = `${fresh()}/lang`
      const nb = await get(plain, path, { headers: { "accept-language": "nb" } })
      const en = await get(plain, path, { headers: { "accept-language": "en" } })
      expect([nb.body.startsWith("lang=nb"), en.body.startsWith("lang=en"), en.cache]).toEqual([
        true,
        true,
        "MISS",
      ])
      const again = await get(plain, path, { headers: { "accept-language": "nb" } })
      expect([again.body, again.cache]).toEqual([nb.body, "HIT"])
    })

    it("drops a product's pages on its tag", async () => {
      const path = `${fresh()}/tagged/42`
      const first = await get(plain, path)
      expect((await get(plain, path)).cache).toBe("HIT")
      await cache.invalidateTag("product:42")
      const after = await get(plain, path)
      expect([after.cache, after.body === first.body]).toEqual(["MISS", false])
    })

    it("never gives a user another's body, honours Vary and never replays Set-Cookie (property)", async () => {
      const user = fc.constantFrom("alice", "bob")
      const request = fc.record({
        user,
        credential: fc.constantFrom("authorization", "cookie"),
        // `keyed` caches per identity; `plain` has no identity, so credentialed requests pass through.
        app: fc.constantFrom("keyed", "plain"),
        route: fc.constantFrom("/user/a", "/user/b?x=1&y=2", "/user/b?y=2&x=1", "/lang", "/cookie", "/home"),
        lang: fc.constantFrom("nb", "en", "de"),
        noise: fc.string({ maxLength: 8 }).map((s) => s.replace(/[^a-z]/g, "")),
      })
      const seenCookies = new Set<string>()
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 10 }), async (requests) => {
          const run = fresh()
          for (const r of requests) {
            const headers: Record<string, string> = { "x-noise": r.noise }
            if (r.credential === "authorization") headers.authorization = `Bearer ${r.user}`
            else headers.cookie = `id=${r.user}`
            headers["accept-language"] = r.lang
            const got = await get(r.app === "keyed" ? keyed : plain, `${run}${r.route}`, { headers })
            if (r.route.startsWith("/user"))
              expect(got.body).toContain(`user=${headers.authorization ?? headers.cookie}`)
            if (r.route === "/lang") expect(got.body.startsWith(`lang=${r.lang} `)).toBe(true)
            const cookie = got.response.headers.get("set-cookie")
            // Each app counts its own renders, so a cookie is unique per app.
            if (cookie !== null) {
              expect(seenCookies.has(`${r.app} ${cookie}`)).toBe(false)
              seenCookies.add(`${r.app} ${cookie}`)
            }
          }
        }),
        { numRuns: 25 },
      )
    })
  })
