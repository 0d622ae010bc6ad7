/**
 * The facade's Promise read and write paths (ADR 0012) against the effect
 * paths on a real Redis, for input the engine cannot read back: both must
 * answer the same (a miss with `EntryDropped`, never `StoreFailed` nor an
 * untagged error). Found from outside: with spans off, bytes whose value
 * schema decodes only asynchronously were reported as a store failure.
 */
import { type CacheEvent, createCache, Keyspace } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit"
import { Effect, Schema, SchemaTransformation } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const Slow = Schema.String.pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transformEffect({
      decode: (s) => Effect.sleep(1).pipe(Effect.as(s.toUpperCase())),
      encode: (s) => Effect.succeed(s.toLowerCase()),
    }),
  ),
)
const SlowItems = Keyspace.make({ name: "pp.slow", key: Schema.String, value: Slow, ttl: "1 minute" })

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
}, 30_000)
afterAll(async () => {
  if (server !== undefined) await RedisHarness.stopAll([server])
})

const open = (spans: boolean) =>
  createCache({
    l2: RedisStore.layer({ url: server.url, prefix: "pp:" }),
    bus: RedisBus.layer({ url: server.url, channel: "pp:bus" }),
    spans,
  })

describe("Promise and effect read paths on Redis", () => {
  for (const spans of [false, true]) {
    it(`bytes the value schema cannot decode synchronously are an EntryDropped miss (spans ${spans})`, async () => {
      const writer = await open(spans)
      await writer.keyspace(SlowItems).set(`k-${spans}`, "Hello")
      await writer.close()
      const reader = await open(spans)
      const events: Array<CacheEvent> = []
      reader.on((event) => events.push(event))
      const items = reader.keyspace(SlowItems)
      expect(await items.get(`k-${spans}`)).toBeUndefined()
      expect(events.map((e) => e._tag)).toContain("EntryDropped")
      expect(events.map((e) => e._tag)).not.toContain("StoreFailed")
      expect(reader.stats().l2Errors).toBe(0)
      await reader.close()
    })
  }
})
