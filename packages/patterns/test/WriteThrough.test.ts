import { createCache, InvalidValue, Keyspace } from "@strata/core"
import { createRepository, WriteThrough } from "@strata/patterns"
import { Effect, Schema } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { tiers } from "./helpers.ts"

const Product = Schema.Struct({
  id: Schema.Int,
  name: Schema.String,
  categoryId: Schema.Int,
  version: Schema.Int,
})
type Product = typeof Product.Type
const Products = Keyspace.make({ name: "wt.product", key: Schema.Int, value: Product, ttl: "1 minute" })

const Summary = Schema.Struct({ name: Schema.String, version: Schema.Int })
const Summaries = Keyspace.make({ name: "wt.summary", key: Schema.Int, value: Summary, ttl: "1 minute" })

const Pages = Keyspace.make({ name: "wt.page", key: Schema.Int, value: Schema.String, ttl: "1 minute" })
const CategoryLists = Keyspace.make({
  name: "wt.category-list",
  key: Schema.Int,
  value: Schema.Array(Schema.Int),
  ttl: "1 minute",
  tags: (categoryId) => [`category:${categoryId}`],
})

/** The source of truth: one products table; each commit bumps the row's version. */
const makeDb = () => {
  const table = new Map<number, Product>([
    [1, { id: 1, name: "Tea", categoryId: 10, version: 1 }],
    [2, { id: 2, name: "Coffee", categoryId: 20, version: 1 }],
  ])
  let loads = 0
  return {
    table,
    loads: () => loads,
    loadMany: async (ids: ReadonlyArray<number>) => {
      loads++
      return new Map(ids.flatMap((id) => (table.has(id) ? [[id, table.get(id)!] as const] : [])))
    },
    /** Commits a rename: the new row, version + 1. */
    rename: (id: number, name: string): Product => {
      const row = { ...table.get(id)!, name, version: table.get(id)!.version + 1 }
      table.set(id, row)
      return row
    },
  }
}

const options = {
  version: (p: Product) => p.version,
  views: [
    WriteThrough.view(Summaries, {
      key: (id: number) => id,
      from: (p: Product) => ({ name: p.name, version: p.version }),
      version: (s) => s.version,
    }),
  ],
  related: (id: number, p: Product) => ({
    keys: [WriteThrough.key(Pages, id)],
    tags: [`category:${p.categoryId}`],
  }),
}

const t = tiers()
beforeAll(t.start)
beforeEach(t.reset)
afterAll(t.stop)

describe.each(t.all)("write-through ($name)", (tier) => {
  it("an update writes the source, then the cache: the next read needs no load", async () => {
    const db = makeDb()
    const products = createRepository(await tier.open(), Products, { loadMany: db.loadMany, ...options })
    await products.get(1)
    const saved = await products.update(1, () => db.rename(1, "Green tea"))
    expect(saved).toEqual({ id: 1, name: "Green tea", categoryId: 10, version: 2 })
    expect(await products.get(1)).toEqual(saved)
    expect(db.loads()).toBe(1)
  })

  it("a write that throws leaves the cache untouched and rethrows the write's own error", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, { loadMany: db.loadMany, ...options })
    await cache.keyspace(Pages).set(1, "<h1>Tea</h1>")
    const before = await products.get(1)
    const rollback = new Error("serialization failure, rolled back")
    await expect(
      products.update(1, () => {
        throw rollback
      }),
    ).rejects.toBe(rollback)
    expect(await products.get(1)).toEqual(before)
    expect(await cache.keyspace(Pages).get(1)).toBe("<h1>Tea</h1>")
  })

  it("an older version reaching the cache after a newer one is not stored", async () => {
    const db = makeDb()
    const products = createRepository(await tier.open(), Products, { loadMany: db.loadMany, ...options })
    const v2 = db.rename(1, "second")
    const v3 = db.rename(1, "third")
    await products.update(1, () => v3)
    await products.update(1, () => v2) // the slower transaction's cache write arrives last
    expect(await products.get(1)).toEqual(v3)
  })

  it("views are written with the record; related keys and tags are dropped", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, { loadMany: db.loadMany, ...options })
    await cache.keyspace(Pages).setMany([
      [1, "page 1"],
      [2, "page 2"],
    ])
    await cache.keyspace(CategoryLists).setMany([
      [10, [1]],
      [20, [2]],
    ])
    await products.update(1, () => db.rename(1, "Green tea"))
    expect(await cache.keyspace(Summaries).get(1)).toEqual({ name: "Green tea", version: 2 })
    expect(await cache.keyspace(Pages).getMany([1, 2])).toEqual([undefined, "page 2"])
    expect(await cache.keyspace(CategoryLists).getMany([10, 20])).toEqual([undefined, [2]])
  })

  it("without a version, an update deletes the cached record instead of writing it", async () => {
    const db = makeDb()
    const products = createRepository(await tier.open(), Products, { loadMany: db.loadMany })
    await products.get(1)
    await products.update(1, () => db.rename(1, "Green tea"))
    expect(await products.get(1)).toMatchObject({ name: "Green tea" })
    expect(db.loads()).toBe(2)
  })

  it("a written record that fails the value schema is InvalidValue, and the older cached record is deleted", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, { loadMany: db.loadMany, ...options })
    await products.get(1)
    const bad = { id: 1, name: "x", categoryId: 10, version: 1.5 } as Product
    await expect(products.update(1, () => bad)).rejects.toBeInstanceOf(InvalidValue)
    expect(await cache.keyspace(Products).get(1)).toBeUndefined()
  })

  it("Effect form: WriteThrough.write keeps the write's typed error and touches nothing when it fails", async () => {
    class Rollback extends Schema.TaggedError<Rollback>()("Rollback", {}) {}
    const cache = await tier.open()
    await cache.keyspace(Products).set(2, { id: 2, name: "Coffee", categoryId: 20, version: 1 })
    const failed = await Effect.runPromise(
      WriteThrough.write(cache.service, Products, 2, Effect.fail(new Rollback()), options).pipe(
        Effect.map(() => "written"),
        Effect.catchTag("Rollback", () => Effect.succeed("rolled back")),
      ),
    )
    expect(failed).toBe("rolled back")
    const record = { id: 2, name: "Espresso", categoryId: 20, version: 2 }
    await Effect.runPromise(WriteThrough.write(cache.service, Products, 2, Effect.succeed(record), options))
    expect(await cache.keyspace(Products).get(2)).toEqual(record)
    expect(await cache.keyspace(Summaries).get(2)).toEqual({ name: "Espresso", version: 2 })
  })

  it("property: two racing updates never leave the older version cached (a fresh reader sees the newest)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.string(), fc.string(), async (s, nameA, nameB) => {
        await t.reset()
        const db = makeDb()
        // Two processes on Redis (one on the memory tier), each with its repository.
        const [first, second] = [await tier.open(), await tier.open()]
        const a = createRepository(first, Products, { loadMany: db.loadMany, ...options })
        const b = createRepository(second, Products, { loadMany: db.loadMany, ...options })
        await a.get(1)
        await b.get(1)
        // The scheduler picks when each transaction commits and when each returns to write the cache.
        const update = (repository: typeof a, name: string) =>
          repository.update(1, async () => {
            await s.schedule(Promise.resolve(), `commit ${name}`)
            const row = db.rename(1, name)
            return s.schedule(Promise.resolve(row), `return v${row.version}`)
          })
        const both = Promise.all([update(a, nameA), update(b, nameB)])
        await s.waitAll()
        await both
        const newest = db.table.get(1)!
        expect(newest.version).toBe(3)
        const fresh = createRepository(await tier.open(), Products, { loadMany: db.loadMany })
        expect(await fresh.get(1)).toEqual(newest)
        expect(await (await tier.open()).keyspace(Summaries).get(1)).toEqual({
          name: newest.name,
          version: 3,
        })
      }),
      { numRuns: 30 },
    )
  })
})

describe("write-through with a version that is not a number", () => {
  it("fails with InvalidArgument after the source write and deletes the cached record", async () => {
    const cache = await createCache()
    const products = createRepository(cache, Products, {
      loadMany: async (ids) => new Map(ids.map((id) => [id, { id, name: "Tea", categoryId: 1, version: 1 }])),
      version: () => Number.NaN,
    })
    await products.get(1)
    await expect(
      products.update(1, () => ({ id: 1, name: "x", categoryId: 1, version: 2 })),
    ).rejects.toMatchObject({ _tag: "InvalidArgument", argument: "version" })
    expect(await cache.keyspace(Products).get(1)).toBeUndefined()
    await cache.close()
  })
})
