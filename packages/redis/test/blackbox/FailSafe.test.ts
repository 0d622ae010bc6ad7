/**
 * Issue 9, item 7: fail-safe reads. While Redis is down (killed) or stalled
 * (paused), `get` and `getMany` answer a miss instead of throwing, with a
 * `StoreFailed` event and a growing `l2Errors`; `getOrSet` falls back to its
 * loader; writes fail with `StoreUnavailable` or `Timeout`. The option
 * `l2ReadErrors: "fail"` makes reads fail instead.
 */
import { type CacheEvent, createCache, type Facade, Keyspace, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { describeFailure, expectFailure, expectTagged, settle, within } from "./contract.ts"
import { isolation } from "./nodes.ts"

const Users = Keyspace.make({
  name: "bb.user",
  key: Schema.String,
  value: Schema.Struct({ name: Schema.String, plan: Schema.String }),
  ttl: "10 minutes",
})

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
}, 30_000)
afterAll(async () => {
  if (server !== undefined) await RedisHarness.stopAll([server])
})

const { prefix, channel } = isolation()
const open = (extra: Partial<Facade.CreateCacheOptions> & Record<string, unknown> = {}) => {
  // Built as a variable, so an option the current types lack (`l2ReadErrors`) is still passed as a user would.
  const options = {
    l2: RedisStore.layer({ url: server.url, prefix }),
    bus: RedisBus.layer({ url: server.url, channel }),
    ...extra,
  }
  return createCache(options)
}

/** How long a read may take to answer while Redis is down or stalled (command timeout 500 ms, plus slack). */
const ANSWER_MILLIS = 2_000

for (const fault of ["killed", "paused"] as const) {
  describe(`fail-safe while Redis is ${fault} (black box)`, () => {
    let writer: StrataCache
    let reader: StrataCache
    let strict: StrataCache
    const events: Array<CacheEvent> = []
    let l2ErrorsBefore = 0
    // Written by another cache before the fault, never read by `reader`: only L2 has them.
    const keys = Array.from({ length: 6 }, (_, i) => `user:${fault}:${i}`)

    beforeAll(async () => {
      writer = await open()
      reader = await open()
      strict = await open({ l2ReadErrors: "fail" })
      for (const key of keys) await writer.keyspace(Users).set(key, { name: key, plan: "pro" })
      reader.on((event) => events.push(event))
      l2ErrorsBefore = reader.stats().l2Errors
      if (fault === "killed") await server.kill()
      else server.pause()
    }, 30_000)

    afterAll(async () => {
      if (fault === "killed") await server.restart()
      else server.resume()
      await Promise.all([writer, reader, strict].map((c) => c && within(c.close(), 3_000)))
    }, 30_000)

    it(`get resolves to a miss, never rejects, with a StoreFailed event and l2Errors growing (Redis ${fault})`, async () => {
      const users = reader.keyspace(Users)
      for (const key of keys.slice(0, 3)) {
        const outcome = await within(users.get(key), ANSWER_MILLIS)
        expect(outcome, `get(${key}) answers within ${ANSWER_MILLIS} ms`).not.toBe("pending")
        if (outcome === "pending") continue
        expect(outcome.ok, `get(${key}) resolves: ${outcome.ok ? "" : describeFailure(outcome.error)}`).toBe(
          true,
        )
        if (outcome.ok) expect(outcome.value).toBeUndefined()
      }
      expect(events.map((e) => e._tag)).toContain("StoreFailed")
      expect(reader.stats().l2Errors).toBeGreaterThan(l2ErrorsBefore)
    })

    it(`getMany resolves to misses, never rejects (Redis ${fault})`, async () => {
      const outcome = await within(reader.keyspace(Users).getMany(keys.slice(3)), ANSWER_MILLIS)
      expect(outcome, "getMany answers").not.toBe("pending")
      if (outcome === "pending") return
      expect(outcome.ok, `getMany resolves: ${outcome.ok ? "" : describeFailure(outcome.error)}`).toBe(true)
      if (outcome.ok) expect(outcome.value).toEqual([undefined, undefined, undefined])
    })

    it(`getOrSet calls the loader and returns its value (Redis ${fault})`, async () => {
      let calls = 0
      const outcome = await within(
        reader.keyspace(Users).getOrSet(keys[0]!, async () => {
          calls++
          return { name: "from the database", plan: "free" }
        }),
        ANSWER_MILLIS * 2,
      )
      expect(outcome).not.toBe("pending")
      if (outcome === "pending") return
      expect(outcome.ok, `getOrSet resolves: ${outcome.ok ? "" : describeFailure(outcome.error)}`).toBe(true)
      if (outcome.ok) expect(outcome.value).toEqual({ name: "from the database", plan: "free" })
      expect(calls).toBe(1)
    })

    it(`set and delete reject with StoreUnavailable or Timeout (Redis ${fault})`, async () => {
      const users = reader.keyspace(Users)
      await expectFailure(
        () => users.set("user:new", { name: "new", plan: "free" }),
        ["StoreUnavailable", "Timeout"],
      )
      await expectFailure(() => users.delete(keys[1]!), ["StoreUnavailable", "Timeout"])
    })

    it(`with l2ReadErrors: "fail", get and getMany reject with StoreUnavailable or Timeout (Redis ${fault})`, async () => {
      const users = strict.keyspace(Users)
      await expectFailure(() => users.get(keys[2]!), ["StoreUnavailable", "Timeout"], "get")
      await expectFailure(() => users.getMany([keys[4]!]), ["StoreUnavailable", "Timeout"], "getMany")
    })
  })
}

describe("the l2ReadErrors option (black box)", () => {
  it('an l2ReadErrors value other than "miss" or "fail" is rejected by createCache with InvalidArgument', async () => {
    const outcome = await settle(() => open({ l2ReadErrors: "banana" as never }))
    if (outcome.ok) await outcome.value.close()
    expect(outcome.ok, "createCache rejects").toBe(false)
    if (!outcome.ok) expectTagged(outcome.error, ["InvalidArgument"], "createCache")
  })
})
