/**
 * Issue 9, item 5: a background refresh is shared, and a soft timeout bounds
 * every wait. Callers holding a stale value get it back at their soft
 * timeout, whether they started the refresh, joined it late, or wait for
 * another process's lease; the loader still runs once.
 */
import { createCache, Keyspace, MemoryStore } from "@strata/core"
import { RedisStore } from "@strata/redis"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { isolation, type Node, nodePool, sleep, until, wall } from "./nodes.ts"

const SOFT = 50
/** How late past its soft timeout a caller may get its stale value (scheduling, an L2 round trip). */
const SLACK = 150

const Prices = Keyspace.make({
  name: "bb.price",
  key: Schema.String,
  value: Schema.Struct({ amount: Schema.Number, source: Schema.String }),
  ttl: "200 millis",
  staleFor: "1 hour",
})

describe("soft timeout bounds every wait; a background refresh is shared (black box)", () => {
  for (const tier of ["L1 only", "L1 over a memory store", "L1 over Redis"] as const) {
    it(`10 callers spread over 100 ms on a stale key all get the stale value near their soft timeout, and the loader runs once (${tier})`, async () => {
      const { prefix } = isolation()
      const cache = await createCache(
        tier === "L1 only"
          ? {}
          : tier === "L1 over a memory store"
            ? { l2: MemoryStore.layer() }
            : { l2: RedisStore.layer({ url: inject("redisUrl"), prefix }) },
      )
      try {
        const prices = cache.keyspace(Prices)
        const key = "sku:123"
        await prices.set(key, { amount: 10, source: "stale" })
        await sleep(300)
        let loaderCalls = 0
        const slowLoader = async () => {
          loaderCalls++
          await sleep(1_000)
          return { amount: 11, source: "loader" }
        }
        const calls = await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            await sleep(i * 11)
            const startedAt = wall()
            const value = await prices.getOrSet(key, slowLoader, { softTimeout: `${SOFT} millis` })
            return { i, value: value.source, waited: Math.round(wall() - startedAt) }
          }),
        )
        console.log(
          `soft timeout (${tier}): waits ${JSON.stringify(calls.map((c) => c.waited))} ms, loader calls ${loaderCalls}`,
        )
        expect(calls.map((c) => c.value)).toEqual(Array(10).fill("stale"))
        for (const c of calls) expect(c.waited, `caller ${c.i} waited`).toBeLessThanOrEqual(SOFT + SLACK)
        expect(loaderCalls, "loader calls for the 10 callers").toBe(1)
        // The one background load fills the cache when it ends.
        expect(await until(async () => (await prices.get(key))?.source === "loader", 3_000)).toBe(true)
        expect(loaderCalls).toBe(1)
      } finally {
        await cache.close()
      }
    }, 30_000)
  }
})

describe("soft timeout while another process holds the lease (black box, 2 processes)", () => {
  const pool = nodePool()
  let holder: Node
  let waiter: Node
  beforeAll(async () => {
    const { prefix, channel } = isolation()
    ;[holder, waiter] = (await pool.start(2, { store: inject("redisUrl"), prefix, channel })) as [Node, Node]
  }, 90_000)
  afterAll(() => pool.stopAll())

  it("a caller holding a stale value that waits on another process's lease serves it at its soft timeout, without loading", async () => {
    const key = "sku:9"
    expect((await holder.set(key, "old", "stale")).ok).toBe(true)
    const warm = await waiter.get(key, "stale")
    expect(warm.ok && warm.result).toBe("old")
    await sleep(400)
    // The holder refreshes the stale key under a lease; its loader runs until released.
    const refresh = holder.getOrSet(key, "new", { ks: "stale", gate: true })
    expect(await until(async () => (await holder.status()).loaderStarts.some((s) => s.key === key))).toBe(
      true,
    )

    const served = await waiter.getOrSet(key, "from the waiter", {
      ks: "stale",
      loaderMillis: 2_000,
      options: { softTimeout: `${SOFT} millis` },
    })
    const waited = Math.round(served.doneAt - served.startedAt)
    console.log(`soft timeout behind another process's lease: the waiter answered after ${waited} ms`)
    expect(served.ok && served.result.value).toBe("old")
    expect(waited, "the waiter's wait (ms)").toBeLessThanOrEqual(SOFT + SLACK)
    expect(
      (await waiter.status()).loaderStarts.filter((s) => s.key === key).length,
      "the waiter's loader calls while the lease holds",
    ).toBe(0)

    await holder.release(key)
    const refreshed = await refresh
    expect(refreshed.ok && refreshed.result.value).toBe("new")
    expect(
      await until(async () => {
        const r = await waiter.get(key, "stale")
        return r.ok && r.result === "new"
      }, 3_000),
    ).toBe(true)
  }, 60_000)
})
