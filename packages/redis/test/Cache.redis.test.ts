import { randomUUID } from "node:crypto"
import { Cache, type CacheEvent, EntryTooLarge, Keyspace } from "@strata/core"
import { clientOf } from "@strata/redis/testing"
import { Arbitraries } from "@strata/testkit"
import { Effect, Exit, Option, Schema, Scope } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { type OpenStore, openStore } from "./helpers.ts"

// These tests inject no faults: they share the run's standalone server, each under its own prefix.
let opened: OpenStore
let cache: Cache.Service
const prefix = `cache-${randomUUID().slice(0, 8)}:`
const scope = Effect.runSync(Scope.make())
const makeCache = (options: Cache.Options) =>
  Effect.runPromise(Scope.provide(Cache.make(options, opened.store), scope))

beforeAll(async () => {
  opened = await openStore({ url: inject("redisUrl"), prefix })
  cache = await makeCache({ l1: false })
})
afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await opened?.close()
})

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

const Products = Keyspace.make({
  name: "redis.product",
  key: Schema.Struct({ id: Schema.Int }),
  value: Schema.Struct({ id: Schema.Int, name: Schema.String }),
  ttl: "1 minute",
})

describe("the cache over a real Redis", () => {
  it("corrupt bytes written straight into a key are a miss, reported, and removed", async () => {
    const events: Array<CacheEvent> = []
    const stop = cache.onEvent((e) => events.push(e))
    const generation = Number((await clientOf(opened.store).get(`${prefix}${Products.id}:meta:gen`)) ?? 0)
    const redisKey = `${prefix}${Products.id}:${generation}:${Products.storeKey({ id: 1 })}`
    for (const corrupt of [
      Buffer.from([0xc1, 0xff]),
      Buffer.from("v1:not msgpack"),
      Buffer.from("plain text"),
    ]) {
      await clientOf(opened.store).set(redisKey, corrupt)
      expect(await run(cache.get(Products, { id: 1 }))).toEqual(Option.none())
      const after = await clientOf(opened.store).getBuffer(redisKey)
      // Removed: a tombstone (no value) or nothing at all.
      expect(after === null || after.subarray(0, 1).toString() === "t").toBe(true)
    }
    expect(events.filter((e) => e._tag === "EntryDropped")).toHaveLength(3)
    stop()
    expect(await run(cache.getOrSet(Products, { id: 1 }, Effect.succeed({ id: 1, name: "fresh" })))).toEqual({
      id: 1,
      name: "fresh",
    })
  })

  it("a value over the size limit is refused with EntryTooLarge and nothing reaches Redis", async () => {
    const small = await makeCache({ l1: false, maxEntryBytes: 1_000 })
    const exit = await Effect.runPromiseExit(
      small.set(Products, { id: 2 }, { id: 2, name: "x".repeat(5_000) }),
    )
    expect(
      Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail"
        ? (exit.cause.reasons[0] as { error: unknown }).error
        : undefined,
    ).toBeInstanceOf(EntryTooLarge)
    const generation = Number((await clientOf(opened.store).get(`${prefix}${Products.id}:meta:gen`)) ?? 0)
    expect(
      await clientOf(opened.store).exists(
        `${prefix}${Products.id}:${generation}:${Products.storeKey({ id: 2 })}`,
      ),
    ).toBe(0)
  })

  it("hostile keys from the testkit arbitraries round-trip through Redis without colliding (property)", async () => {
    const Anything = Keyspace.make({
      name: "redis.hostile",
      key: Schema.Unknown,
      value: Schema.String,
      ttl: "1 minute",
    })
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(Arbitraries.keyValue, {
          minLength: 2,
          maxLength: 6,
          selector: (k) => JSON.stringify(k),
        }),
        async (keys) => {
          const encodable = keys.filter((key) => {
            try {
              Anything.storeKey(key)
              return true
            } catch {
              return false
            }
          })
          // Keys equal after NFC normalisation are the same key by design; keep one of each.
          const distinct = [...new Map(encodable.map((k) => [Anything.storeKey(k), k])).values()]
          const tag = randomUUID()
          await run(
            cache.setMany(
              Anything,
              distinct.map((key, i) => [key, `${tag}:${i}`] as const),
            ),
          )
          const found = await run(cache.getMany(Anything, distinct))
          expect(found).toEqual(distinct.map((_, i) => Option.some(`${tag}:${i}`)))
        },
      ),
      { numRuns: 200 },
    )
  })

  it("a tag invalidated through one cache makes the entries a miss for another cache on the same Redis", async () => {
    const Tagged = Keyspace.make({
      name: "redis.tagged",
      key: Schema.Int,
      value: Schema.String,
      ttl: "1 minute",
      tags: (id) => [`group:${id % 2}`],
    })
    const a = await makeCache({ l1: false })
    const b = await makeCache({ l1: false })
    await run(
      a.setMany(Tagged, [
        [1, "one"],
        [2, "two"],
        [3, "three"],
      ]),
    )
    expect(await run(b.getMany(Tagged, [1, 2, 3]))).toEqual([
      Option.some("one"),
      Option.some("two"),
      Option.some("three"),
    ])
    await run(b.invalidateTag("group:1"))
    expect(await run(a.getMany(Tagged, [1, 2, 3]))).toEqual([
      Option.none(),
      Option.some("two"),
      Option.none(),
    ])
  })
})

describe("update on a real Redis", () => {
  it("three caches, each with its own connection, 30 concurrent updates each of one key: none is lost, and a fresh cache reads them all", async () => {
    const Counters = Keyspace.make({
      name: "redis.update",
      key: Schema.String,
      value: Schema.Struct({ seen: Schema.Array(Schema.String) }),
      ttl: "1 minute",
    })
    const stores = await Promise.all([1, 2, 3].map(() => openStore({ url: inject("redisUrl"), prefix })))
    try {
      const caches = await Promise.all(
        stores.map((s) => Effect.runPromise(Scope.provide(Cache.make({}, s.store), scope))),
      )
      const key = `k-${randomUUID()}`
      await Promise.all(
        caches.flatMap((c, i) =>
          Array.from({ length: 30 }, (_, j) =>
            run(c.update(Counters, key, (current) => ({ seen: [...(current?.seen ?? []), `${i}-${j}`] }))),
          ),
        ),
      )
      const fresh = await makeCache({})
      const stored = Option.getOrThrow(await run(fresh.get(Counters, key)))
      expect(new Set(stored.seen).size).toBe(90)
    } finally {
      for (const s of stores) await s.close()
    }
  })
})

describe("getOrSetMany on a real Redis", () => {
  it("two caches with their own connections ask overlapping batches at once: each key is loaded once, and a fresh cache reads every row", async () => {
    const Rows = Keyspace.make({
      name: "redis.rows",
      key: Schema.String,
      value: Schema.String,
      ttl: "1 minute",
    })
    const stores = await Promise.all([1, 2].map(() => openStore({ url: inject("redisUrl"), prefix })))
    try {
      const [a, b] = await Promise.all(
        stores.map((s) => Effect.runPromise(Scope.provide(Cache.make({}, s.store), scope))),
      )
      const run = randomUUID().slice(0, 8)
      const keys = Array.from({ length: 12 }, (_, i) => `${run}-${i}`)
      const loaded: Array<string> = []
      const loadMany = (batch: ReadonlyArray<string>) =>
        Effect.sync(() => loaded.push(...batch)).pipe(
          Effect.andThen(Effect.sleep(50)),
          Effect.as(batch.map((k) => `row:${k}`)),
        )
      const [first, second] = await Promise.all([
        run_(a!.getOrSetMany(Rows, keys.slice(0, 8), loadMany)),
        run_(b!.getOrSetMany(Rows, keys.slice(4), loadMany)),
      ])
      expect(first.map(Option.getOrUndefined)).toEqual(keys.slice(0, 8).map((k) => `row:${k}`))
      expect(second.map(Option.getOrUndefined)).toEqual(keys.slice(4).map((k) => `row:${k}`))
      expect([...loaded].sort()).toEqual([...keys].sort())
      const fresh = await makeCache({})
      const read = await run_(fresh.getMany(Rows, keys))
      expect(read.map(Option.getOrUndefined)).toEqual(keys.map((k) => `row:${k}`))
    } finally {
      for (const s of stores) await s.close()
    }
  })
})

const run_ = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

describe("keys on a Redis Cluster", () => {
  it("a keyspace with a keyspace-wide hash tag puts every key in one slot; others spread over the slots", async () => {
    const nodes = inject("clusterNodes")
    const clustered = await openStore({ cluster: { nodes }, prefix: `slots-${randomUUID().slice(0, 6)}:` })
    try {
      const slotCache = await Effect.runPromise(
        Scope.provide(Cache.make({ l1: false }, clustered.store), scope),
      )
      const OneSlot = Keyspace.make({
        name: "cart",
        key: Schema.Int,
        value: Schema.Int,
        ttl: 60_000,
        hashTag: "keyspace",
      })
      const Spread = Keyspace.make({ name: "spread", key: Schema.Int, value: Schema.Int, ttl: 60_000 })
      const ids = Array.from({ length: 20 }, (_, i) => i)
      await run(
        slotCache.setMany(
          OneSlot,
          ids.map((i) => [i, i] as const),
        ),
      )
      await run(
        slotCache.setMany(
          Spread,
          ids.map((i) => [i, i] as const),
        ),
      )
      expect(await run(slotCache.getMany(OneSlot, ids))).toEqual(ids.map((i) => Option.some(i)))
      expect(await run(slotCache.getMany(Spread, ids))).toEqual(ids.map((i) => Option.some(i)))
      const slots = async (ks: typeof OneSlot) =>
        new Set(
          await Promise.all(
            ids.map(
              (i) =>
                clientOf(clustered.store).cluster(
                  "KEYSLOT",
                  `x:${ks.id}:0:${ks.storeKey(i)}`,
                ) as Promise<number>,
            ),
          ),
        )
      expect((await slots(OneSlot)).size).toBe(1)
      expect((await slots(Spread)).size).toBeGreaterThan(10)
    } finally {
      await clustered.close()
    }
  })
})
