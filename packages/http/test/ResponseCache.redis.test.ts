import { createCache, type StrataCache } from "@strata/core"
import { HttpKeyspace, ResponseCache } from "@strata/http"
import { RedisBus, RedisStore } from "@strata/redis"
import { afterEach, describe, expect, inject, it } from "vitest"
import type { RunningApp } from "./support/app.ts"
import { startNode } from "./support/frameworks.ts"
import { sleep } from "./support/upstream.ts"

const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close()
})

const keyspace = HttpKeyspace.make({ name: "shared-pages", ttl: "1 minute", tags: () => ["pages"] })

const processOf = async (prefix: string): Promise<{ cache: StrataCache; app: RunningApp }> => {
  const url = inject("redisUrl")
  const cache = await createCache({
    l2: RedisStore.layer({ url, prefix }),
    bus: RedisBus.layer({ url, channel: `${prefix}bus` }),
  })
  opened.push(cache)
  const app = await startNode(ResponseCache.make({ cache, keyspace }))
  opened.push(app)
  return { cache, app }
}

describe("ResponseCache across processes (two caches on one real Redis)", () => {
  it("serves on B the page A rendered, and a tag invalidated on B drops it on A", async () => {
    const prefix = `http-pages-${process.pid}-${Date.now()}:`
    const a = await processOf(prefix)
    const b = await processOf(prefix)
    const first = await fetch(`${a.app.url}/home`)
    const body = await first.text()
    // A stores the page once it has sent it (L2, then its L1): wait for its L1 copy.
    const stored = a.cache.keyspace(keyspace.entries)
    const key = { method: "GET", url: "/home", identity: "", headers: "" }
    for (const deadline = Date.now() + 5_000; stored.peek(key) === undefined && Date.now() < deadline; )
      await sleep(10)
    const onB = await fetch(`${b.app.url}/home`)
    expect([first.headers.get("x-cache"), onB.headers.get("x-cache"), await onB.text()]).toEqual([
      "MISS",
      "HIT",
      body,
    ])
    expect(b.app.renders()).toBe(0)
    await b.cache.invalidateTag("pages")
    let seen = "HIT"
    for (const deadline = Date.now() + 5_000; seen === "HIT" && Date.now() < deadline; await sleep(20)) {
      const again = await fetch(`${a.app.url}/home`)
      await again.text()
      seen = again.headers.get("x-cache") ?? ""
    }
    expect(seen).toBe("MISS")
  })
})
