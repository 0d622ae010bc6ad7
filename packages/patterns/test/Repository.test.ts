import { Cache, createCache, InvalidKey, InvalidValue, Keyspace, LoaderFailed } from "@strata/core"
import { createRepository, InvalidLoaderResult, Repository } from "@strata/patterns"
import { Context, Effect, Layer, Option, Schema } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { tiers } from "./helpers.ts"

const User = Schema.Struct({ id: Schema.Int, name: Schema.String })
type User = typeof User.Type

const Users = Keyspace.make({ name: "test.user", key: Schema.Int, value: User, ttl: "1 minute" })

/** The source of truth: a table of users, counting the batch queries it answers. */
const makeSource = (ids: ReadonlyArray<number> = [1, 2, 3, 4, 5, 6, 7, 8, 9]) => {
  const table = new Map(ids.map((id) => [id, { id, name: `User ${id}` }]))
  const queries: Array<ReadonlyArray<number>> = []
  return {
    table,
    queries,
    loadMany: async (asked: ReadonlyArray<number>) => {
      queries.push([...asked])
      await new Promise((resolve) => setImmediate(resolve))
      const rows = new Map<number, User>()
      for (const id of asked) {
        const row = table.get(id)
        if (row !== undefined) rows.set(id, row)
      }
      return rows
    },
  }
}

const t = tiers()
beforeAll(t.start)
beforeEach(t.reset)
afterAll(t.stop)

describe.each(t.all)("read-through repository ($name)", (tier) => {
  it("getMany answers in input order and loads only the misses, in one call", async () => {
    const source = makeSource()
    const users = createRepository(await tier.open(), Users, { loadMany: source.loadMany })
    expect((await users.getMany([3, 1, 2])).map((u) => u?.id)).toEqual([3, 1, 2])
    expect((await users.getMany([4, 2, 5, 1])).map((u) => u?.name)).toEqual([
      "User 4",
      "User 2",
      "User 5",
      "User 1",
    ])
    expect(source.queries).toEqual([
      [3, 1, 2],
      [4, 5],
    ])
  })

  it("a missing row is undefined, not an error, and is not cached", async () => {
    const source = makeSource()
    const users = createRepository(await tier.open(), Users, { loadMany: source.loadMany })
    expect(await users.getMany([1, 404])).toEqual([{ id: 1, name: "User 1" }, undefined])
    expect(await users.get(404)).toBeUndefined()
    source.table.set(404, { id: 404, name: "Found later" })
    expect(await users.get(404)).toEqual({ id: 404, name: "Found later" })
    expect(source.queries).toEqual([[1, 404], [404], [404]])
  })

  it("duplicate ids are loaded once and answered at each position", async () => {
    const source = makeSource()
    const users = createRepository(await tier.open(), Users, { loadMany: source.loadMany })
    const found = await users.getMany([2, 1, 2, 2, 1])
    expect(found.map((u) => u?.id)).toEqual([2, 1, 2, 2, 1])
    expect(source.queries).toEqual([[2, 1]])
  })

  it("an empty batch answers [] without calling the loader or any tier", async () => {
    const source = makeSource()
    const cache = await tier.open()
    const users = createRepository(cache, Users, { loadMany: source.loadMany })
    const before = cache.stats()
    expect(await users.getMany([])).toEqual([])
    const after = cache.stats()
    expect(source.queries).toEqual([])
    expect([after.hitsL1, after.hitsL2, after.misses, after.loads]).toEqual([
      before.hitsL1,
      before.hitsL2,
      before.misses,
      before.loads,
    ])
  })

  it("gets in the same tick share one loadMany call", async () => {
    const source = makeSource()
    const users = createRepository(await tier.open(), Users, { loadMany: source.loadMany })
    const found = await Promise.all([5, 3, 5, 9, 404].map((id) => users.get(id)))
    expect(found.map((u) => u?.id)).toEqual([5, 3, 5, 9, undefined])
    expect(source.queries).toEqual([[5, 3, 9, 404]])
    // Cached now: the same gets load nothing.
    await Promise.all([5, 3, 9].map((id) => users.get(id)))
    expect(source.queries).toHaveLength(1)
  })

  it("load is used for a batch of one miss, loadMany for more", async () => {
    const source = makeSource()
    const single: Array<number> = []
    const users = createRepository(await tier.open(), Users, {
      loadMany: source.loadMany,
      load: (id) => {
        single.push(id)
        return source.table.get(id)
      },
    })
    expect(await users.get(7)).toEqual({ id: 7, name: "User 7" })
    await users.getMany([7, 8, 9])
    expect(single).toEqual([7])
    expect(source.queries).toEqual([[8, 9]])
  })

  it("a bad id fails its own get with InvalidKey, not the others of its batch", async () => {
    const source = makeSource()
    const users = createRepository(await tier.open(), Users, { loadMany: source.loadMany })
    const results = await Promise.allSettled([users.get(1), users.get(1.5), users.get(2)])
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"])
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidKey)
    expect(source.queries).toEqual([[1, 2]])
  })

  it("a row for an id not asked for fails the batch with InvalidLoaderResult, and nothing is stored", async () => {
    const source = makeSource()
    const cache = await tier.open()
    // The classic bug: ids of the wrong type ("1" for 1) come back as rows nobody asked for.
    const wrong = createRepository(cache, Users, {
      loadMany: async (ids) => new Map(ids.map((id) => [String(id) as unknown as number, { id, name: "x" }])),
    })
    const error = await wrong.getMany([1, 2]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidLoaderResult)
    expect((error as InvalidLoaderResult).reason).toBe("unrequested-id")
    const right = createRepository(cache, Users, { loadMany: source.loadMany })
    expect((await right.getMany([1, 2])).map((u) => u?.name)).toEqual(["User 1", "User 2"])
    expect(source.queries).toEqual([[1, 2]])
  })

  it("a loader that returns no Map fails with InvalidLoaderResult not-a-map", async () => {
    const users = createRepository(await tier.open(), Users, {
      loadMany: async (ids) => ids.map((id) => ({ id, name: "x" })) as unknown as Map<number, User>,
    })
    const error = await users.getMany([1, 2]).catch((e: unknown) => e)
    expect((error as InvalidLoaderResult).reason).toBe("not-a-map")
  })

  it("a row of the wrong shape is InvalidValue and nothing is cached", async () => {
    const source = makeSource()
    const cache = await tier.open()
    const bad = createRepository(cache, Users, {
      loadMany: async (ids) => new Map(ids.map((id) => [id, { id, name: 42 } as unknown as User])),
    })
    await expect(bad.getMany([1, 2])).rejects.toBeInstanceOf(InvalidValue)
    expect(await cache.keyspace(Users).getMany([1, 2])).toEqual([undefined, undefined])
    const good = createRepository(cache, Users, { loadMany: source.loadMany })
    expect(await good.get(1)).toEqual({ id: 1, name: "User 1" })
  })

  it("a loader that throws is LoaderFailed with the thrown error as cause, and nothing is cached", async () => {
    const cache = await tier.open()
    const boom = new Error("database down")
    const users = createRepository(cache, Users, {
      loadMany: async () => {
        throw boom
      },
    })
    const error = await users.getMany([1]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LoaderFailed)
    expect((error as LoaderFailed).cause).toBe(boom)
    expect(await cache.keyspace(Users).get(1)).toBeUndefined()
  })

  it("invalidate drops the cached record so the next read loads it", async () => {
    const source = makeSource()
    const users = createRepository(await tier.open(), Users, { loadMany: source.loadMany })
    await users.get(1)
    source.table.set(1, { id: 1, name: "Renamed" })
    await users.invalidate(1)
    expect(await users.get(1)).toEqual({ id: 1, name: "Renamed" })
  })
})

describe("read-through repository over Redis, across processes", () => {
  it("loaded rows fill Redis: a fresh cache reads them without loading", async () => {
    const source = makeSource()
    await createRepository(await t.redis.open(), Users, { loadMany: source.loadMany }).getMany([1, 2, 3])
    const other = makeSource()
    const fresh = createRepository(await t.redis.open(), Users, { loadMany: other.loadMany })
    expect((await fresh.getMany([1, 2, 3])).map((u) => u?.id)).toEqual([1, 2, 3])
    expect(other.queries).toEqual([])
  })

  it("two processes asking overlapping batches at once load each key once", async () => {
    const source = makeSource()
    const a = createRepository(await t.redis.open(), Users, { loadMany: source.loadMany })
    const b = createRepository(await t.redis.open(), Users, { loadMany: source.loadMany })
    const [fromA, fromB] = await Promise.all([a.getMany([1, 2, 3, 4, 5, 6]), b.getMany([4, 5, 6, 7, 8, 9])])
    expect(fromA.map((u) => u?.id)).toEqual([1, 2, 3, 4, 5, 6])
    expect(fromB.map((u) => u?.id)).toEqual([4, 5, 6, 7, 8, 9])
    const loaded = source.queries.flat().sort((x, y) => x - y)
    expect(loaded).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it("property: getMany equals the per-key gets and the source, under any interleaving with writes", async () => {
    const ids = [1, 2, 3, 4, 5, 6]
    const step = fc.oneof(
      fc.record({ write: fc.constantFrom(...ids), name: fc.string({ maxLength: 8 }) }),
      fc.record({ remove: fc.constantFrom(...ids) }),
      fc.record({ read: fc.array(fc.constantFrom(...ids, 404), { maxLength: 8 }) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        await t.reset()
        const source = makeSource(ids)
        const users = createRepository(await t.redis.open(), Users, { loadMany: source.loadMany })
        for (const s of steps) {
          if ("write" in s) {
            source.table.set(s.write, { id: s.write, name: s.name })
            await users.invalidate(s.write)
          } else if ("remove" in s) {
            source.table.delete(s.remove)
            await users.invalidate(s.remove)
          } else {
            // The batch and the single gets race each other; all must agree with the source.
            const [many, ...singles] = await Promise.all([
              users.getMany(s.read),
              ...s.read.map((id) => users.get(id)),
            ])
            const truth = s.read.map((id) => source.table.get(id))
            expect(many).toEqual(truth)
            expect(singles).toEqual(truth)
          }
        }
        // A fresh process reading Redis agrees too.
        const fresh = createRepository(await t.redis.open(), Users, { loadMany: source.loadMany })
        expect(await fresh.getMany(ids)).toEqual(ids.map((id) => source.table.get(id)))
      }),
      { numRuns: 30 },
    )
  })
})

class Db extends Context.Service<
  Db,
  { readonly findUsers: (ids: ReadonlyArray<number>) => Effect.Effect<Array<User>> }
>()("test/Db") {}

describe("Repository.make (Effect form)", () => {
  it("uses the Cache service and runs its loader with the services it was built with", async () => {
    const asked: Array<ReadonlyArray<number>> = []
    const DbLive = Layer.succeed(Db)({
      findUsers: (ids) =>
        Effect.sync(() => {
          asked.push(ids)
          return ids.filter((id) => id < 100).map((id) => ({ id, name: `User ${id}` }))
        }),
    })
    const program = Effect.gen(function* () {
      const db = yield* Db
      const users = yield* Repository.make(Users, {
        loadMany: (ids) => Effect.map(db.findUsers(ids), (rows) => new Map(rows.map((u) => [u.id, u]))),
      })
      const many = yield* users.getMany([1, 100, 2])
      const [one, two] = yield* Effect.all([users.get(1), users.get(3)], { concurrency: "unbounded" })
      return { many, one, two }
    })
    const result = await Effect.runPromise(program.pipe(Effect.provide(Layer.merge(Cache.layer(), DbLive))))
    expect(result.many).toEqual([
      Option.some({ id: 1, name: "User 1" }),
      Option.none(),
      Option.some({ id: 2, name: "User 2" }),
    ])
    expect(result.one).toEqual(Option.some({ id: 1, name: "User 1" }))
    expect(result.two).toEqual(Option.some({ id: 3, name: "User 3" }))
    expect(asked).toEqual([[1, 100, 2], [3]])
  })

  it("an error typed by the loader stays typed", async () => {
    class SourceDown extends Schema.TaggedError<SourceDown>()("SourceDown", {}) {}
    const cache = await createCache()
    const users = Repository.makeWith(
      cache.service,
      Users,
      { loadMany: () => Effect.fail(new SourceDown()) },
      Context.empty(),
    )
    const tag = await Effect.runPromise(
      users.getMany([1]).pipe(
        Effect.map(() => "success"),
        Effect.catchTag("SourceDown", (e) => Effect.succeed(e._tag)),
      ),
    )
    expect(tag).toBe("SourceDown")
    await cache.close()
  })
})
