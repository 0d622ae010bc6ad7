/**
 * Values and batches the engine cannot read, found from outside: a value
 * schema whose decode refuses what its own encode wrote, one that decodes
 * only asynchronously, and batch arguments whose elements throw when read.
 * Each is a miss reported as `EntryDropped`, or a typed error: never an
 * untagged `Error` and never a poisoned L1.
 */
import { type CacheEvent, createCache, Keyspace, MemoryStore } from "@strata/core"
import { Effect, Schema, SchemaTransformation } from "effect"
import { describe, expect, it } from "vitest"

/** Encodes 5 as "x5" but decodes only "y…": its own bytes never decode. */
const Lopsided = Schema.String.pipe(
  Schema.decodeTo(
    Schema.Int,
    SchemaTransformation.transform({
      decode: (s) => (s.startsWith("y") ? Number(s.slice(1)) : Number.NaN),
      encode: (n) => `x${n}`,
    }),
  ),
)
/** Decodes only asynchronously: the engine's synchronous decoder cannot run it. */
const Slow = Schema.String.pipe(
  Schema.decodeTo(
    Schema.String,
    SchemaTransformation.transformEffect({
      decode: (s) => Effect.sleep(1).pipe(Effect.as(s.toUpperCase())),
      encode: (s) => Effect.succeed(s.toLowerCase()),
    }),
  ),
)
const LopsidedItems = Keyspace.make({
  name: "t.lopsided",
  key: Schema.String,
  value: Lopsided,
  ttl: "1 minute",
})
const SlowItems = Keyspace.make({ name: "t.slow", key: Schema.String, value: Slow, ttl: "1 minute" })
const Plain = Keyspace.make({ name: "t.plain", key: Schema.String, value: Schema.Int, ttl: "1 minute" })

const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: { _tag?: string }) => ({ tag: error?._tag ?? "untagged" }),
  )

describe("values the engine cannot read back", () => {
  for (const l2 of [undefined, MemoryStore.layer()] as const) {
    const tiers = l2 === undefined ? "L1 only" : "L1 + memory store"
    it(`a set whose value its schema cannot decode leaves no poisoned L1: reads miss with EntryDropped (${tiers})`, async () => {
      const cache = await createCache(l2 === undefined ? {} : { l2 })
      const events: Array<CacheEvent> = []
      cache.on((event) => events.push(event))
      const items = cache.keyspace(LopsidedItems)
      await items.set("k", 5)
      expect(await outcome(items.get("k"))).toEqual({ value: undefined })
      expect(await outcome(items.get("k"))).toEqual({ value: undefined })
      expect(await outcome(items.getMany(["k"]))).toEqual({ value: [undefined] })
      expect(events.filter((e) => e._tag === "EntryDropped").length).toBeGreaterThanOrEqual(1)
      expect(cache.stats().hitsL1).toBe(0)
      // A load of such a value has nothing readable to answer with: a typed error.
      expect(await outcome(items.getOrSet("j", async () => 7))).toEqual({ tag: "InvalidValue" })
      await cache.close()
    })
  }

  for (const spans of [false, true]) {
    it(`a value schema that decodes only asynchronously reads as EntryDropped misses on both read paths (spans ${spans})`, async () => {
      const writer = await createCache({ l2: MemoryStore.layer(), spans })
      await writer.keyspace(SlowItems).set("k", "Hello")
      const events: Array<CacheEvent> = []
      writer.on((event) => events.push(event))
      const items = writer.keyspace(SlowItems)
      expect(await outcome(items.get("k"))).toEqual({ value: undefined })
      expect(await outcome(items.getMany(["k"]))).toEqual({ value: [undefined] })
      expect(events.some((e) => e._tag === "StoreFailed")).toBe(false)
      expect(events.some((e) => e._tag === "EntryDropped")).toBe(true)
      await writer.close()
    })
  }
})

describe("batches that cannot be read", () => {
  it("an element getter or a proxy that throws is InvalidArgument for getMany, getOrSetMany and setMany", async () => {
    const cache = await createCache()
    const items = cache.keyspace(Plain)
    const throwing = Object.defineProperty(["a", "b"], 1, {
      get() {
        throw new Error("element getter")
      },
    })
    const proxy = new Proxy(["a"], {
      get(target, name) {
        if (name === "length") throw new Error("length")
        return Reflect.get(target, name)
      },
    })
    const entries = Object.defineProperty(
      [
        ["a", 1],
        ["b", 2],
      ],
      1,
      {
        get() {
          throw new Error("entry getter")
        },
      },
    )
    const pair = Object.defineProperty(["a", 1], 1, {
      get() {
        throw new Error("value getter")
      },
    })
    expect(await outcome(items.getMany(throwing))).toEqual({ tag: "InvalidArgument" })
    expect(await outcome(items.getMany(proxy))).toEqual({ tag: "InvalidArgument" })
    expect(await outcome(items.getOrSetMany(throwing, async (ks) => ks.map(() => 1)))).toEqual({
      tag: "InvalidArgument",
    })
    expect(await outcome(items.setMany(entries as never))).toEqual({ tag: "InvalidArgument" })
    expect(await outcome(items.setMany([pair] as never))).toEqual({ tag: "InvalidArgument" })
    expect(await items.get("a")).toBeUndefined()
    await cache.close()
  })
})
