import { createCache, type StrataCache } from "@strata/core"
import { CachedFetch, HttpKeyspace } from "@strata/http"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { afterEach, describe, expect, inject, it } from "vitest"
import { sleep, startUpstream } from "./support/upstream.ts"

const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const thing of opened.splice(0)) await thing.close()
})

/** A cache over the run's real Redis: its own L1, the shared L2, the bus and leases. */
const redisCache = async (prefix: string): Promise<StrataCache> => {
  const url = inject("redisUrl")
  const cache = await createCache({
    l2: RedisStore.layer({ url, prefix }),
    bus: RedisBus.layer({ url, channel: `${prefix}bus` }),
  })
  opened.push(cache)
  return cache
}

describe("CachedFetch across processes (two caches on one real Redis)", () => {
  it("makes one upstream call for concurrent callers of both caches (flights, then the lease)", async () => {
    const upstream = await startUpstream(async (_req, res, n) => {
      await sleep(300)
      res.setHeader("etag", `"${n}"`)
      res.end(`report #${n}`)
    })
    opened.push(upstream)
    const prefix = `http-test-${process.pid}-${Date.now()}:`
    const keyspace = HttpKeyspace.make({ name: "reports", ttl: "1 minute" })
    const a = CachedFetch.make({ cache: await redisCache(prefix), keyspace })
    const b = CachedFetch.make({ cache: await redisCache(prefix), keyspace })
    const calls = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? a : b)(`${upstream.url}/report`))
    const bodies = await Promise.all(calls.map((p) => p.then((r) => r.text())))
    expect(new Set(bodies)).toEqual(new Set(["report #1"]))
    expect(upstream.count()).toBe(1)
  })

  it("serves process B the response process A stored, and a tag invalidation drops it for both", async () => {
    const upstream = await startUpstream((_req, res, n) => res.end(`price #${n}`))
    opened.push(upstream)
    const prefix = `http-test-${process.pid}-${Date.now()}-2:`
    const keyspace = HttpKeyspace.make({ name: "prices", ttl: "1 minute", tags: () => ["prices"] })
    const cacheA = await redisCache(prefix)
    const a = CachedFetch.make({ cache: cacheA, keyspace })
    const b = CachedFetch.make({ cache: await redisCache(prefix), keyspace })
    expect(await (await a(`${upstream.url}/p`)).text()).toBe("price #1")
    const fromB = await b(`${upstream.url}/p`)
    expect([fromB.headers.get("x-cache"), await fromB.text()]).toEqual(["HIT", "price #1"])
    await cacheA.invalidateTag("prices")
    // B drops its L1 copy once the bus delivers the invalidation (within milliseconds on loopback).
    let seen = ""
    for (const deadline = Date.now() + 5_000; seen !== "price #2" && Date.now() < deadline; await sleep(20))
      seen = await (await b(`${upstream.url}/p`)).text()
    expect(seen).toBe("price #2")
    expect(await (await a(`${upstream.url}/p`)).text()).toBe("price #2")
  })
})

describe("CachedFetch while Redis is away (found from outside: the demo shop's price route answered 500)", () => {
  it("answers from the upstream, uncached, while Redis is killed, and caches again once it is back", async () => {
    const server = await RedisHarness.startRedis()
    opened.push({ close: () => RedisHarness.stopAll([server]) })
    const upstream = await startUpstream((_req, res, n) => {
      res.setHeader("cache-control", "max-age=60")
      res.end(`rate #${n}`)
    })
    opened.push(upstream)
    const cache = await createCache({
      l2: RedisStore.layer({ url: server.url, prefix: "away:", commandTimeoutMillis: 200 }),
      bus: RedisBus.layer({ url: server.url, channel: "away:bus" }),
    })
    opened.push(cache)
    const errors: Array<unknown> = []
    const fetchRates = CachedFetch.make({
      cache,
      keyspace: HttpKeyspace.make({ name: "rates-away", ttl: "1 minute" }),
      onBackgroundError: (error) => errors.push(error),
    })
    await server.kill()
    for (let i = 0; i < 8; i++) {
      const response = await fetchRates(`${upstream.url}/rates/EUR`)
      expect(response.status).toBe(200)
      expect(await response.text()).toMatch(/^rate #\d+$/)
    }
    await server.restart()
    await sleep(500)
    const first = await fetchRates(`${upstream.url}/rates/GBP`)
    const calls = upstream.count()
    expect((await fetchRates(`${upstream.url}/rates/GBP`)).headers.get("x-cache")).toBe("HIT")
    expect(upstream.count()).toBe(calls)
    await first.body?.cancel()
  }, 30_000)
})
