import { Cache, Keyspace } from "@strata/core"
import { createIdList, createRepository, IdList, Repository } from "@strata/patterns"
import { Effect, Schema } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { tiers } from "./helpers.ts"

const Product = Schema.Struct({
  id: Schema.Int,
  name: Schema.String,
  categoryId: Schema.Int,
  version: Schema.Int,
})
type Product = typeof Product.Type
const Products = Keyspace.make({ name: "il.product", key: Schema.Int, value: Product, ttl: "1 minute" })

/** Pages of a category's product ids, by page number. */
const CategoryPages = Keyspace.make({
  name: "il.category-page",
  key: Schema.Struct({ categoryId: Schema.Int, page: Schema.Int }),
  value: IdList.pageSchema(Schema.Int),
  ttl: "1 minute",
  tags: ({ categoryId }) => [`category:${categoryId}`],
})

/** Pages of a category's product ids, by cursor (the last id seen). */
const CategoryCursor = Keyspace.make({
  name: "il.category-cursor",
  key: Schema.Struct({ categoryId: Schema.Int, after: Schema.NullOr(Schema.String) }),
  value: IdList.pageSchema(Schema.Int),
  ttl: "1 minute",
  tags: ({ categoryId }) => [`category:${categoryId}`],
})

const PAGE = 2

const makeDb = () => {
  const table = new Map<number, Product>(
    [1, 2, 3, 4, 5].map((id) => [id, { id, name: `P${id}`, categoryId: id <= 3 ? 10 : 20, version: 1 }]),
  )
  const log: Array<string> = []
  const idsOf = (categoryId: number) =>
    [...table.values()].filter((p) => p.categoryId === categoryId).map((p) => p.id)
  return {
    table,
    log,
    loadMany: async (ids: ReadonlyArray<number>) => {
      log.push(`rows ${ids.join(",")}`)
      return new Map(ids.flatMap((id) => (table.has(id) ? [[id, table.get(id)!] as const] : [])))
    },
    byPage: async ({ categoryId, page }: { categoryId: number; page: number }) => {
      log.push(`ids ${categoryId}/${page}`)
      return { ids: idsOf(categoryId).slice(page * PAGE, page * PAGE + PAGE), next: null }
    },
    byCursor: async ({ categoryId, after }: { categoryId: number; after: string | null }) => {
      log.push(`ids ${categoryId} after ${after}`)
      const ids = idsOf(categoryId).filter((id) => after === null || id > Number(after))
      const page = ids.slice(0, PAGE)
      return { ids: page, next: ids.length > PAGE ? String(page[page.length - 1]) : null }
    },
  }
}

const t = tiers()
beforeAll(t.start)
beforeEach(t.reset)
afterAll(t.stop)

describe.each(t.all)("ID-list caching ($name)", (tier) => {
  it("caches the ids and reads the records in one batch; the second read queries nothing", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, { loadMany: db.loadMany })
    await products.get(2) // already cached: not in the batch
    const list = createIdList(cache, CategoryPages, products, db.byPage)
    const first = await list.get({ categoryId: 10, page: 0 })
    expect(first.items.map((p) => p.name)).toEqual(["P1", "P2"])
    expect(await list.get({ categoryId: 10, page: 0 })).toEqual(first)
    expect(db.log).toEqual(["rows 2", "ids 10/0", "rows 1"])
  })

  it("a record changed by write-through shows in the cached list without dropping the list", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, { loadMany: db.loadMany, version: (p) => p.version })
    const list = createIdList(cache, CategoryPages, products, db.byPage)
    await list.get({ categoryId: 10, page: 1 })
    await products.update(3, () => {
      const row = { ...db.table.get(3)!, name: "Renamed", version: 2 }
      db.table.set(3, row)
      return row
    })
    expect((await list.get({ categoryId: 10, page: 1 })).items.map((p) => p.name)).toEqual(["Renamed"])
    expect(db.log).toEqual(["ids 10/1", "rows 3"])
  })

  it("a product change drops its category's pages by tag, not the other categories'", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, {
      loadMany: db.loadMany,
      version: (p) => p.version,
      related: (_id, p) => ({ tags: [`category:${p.categoryId}`] }),
    })
    const list = createIdList(cache, CategoryPages, products, db.byPage)
    await list.get({ categoryId: 10, page: 0 })
    await list.get({ categoryId: 10, page: 1 })
    await list.get({ categoryId: 20, page: 0 })
    db.log.length = 0
    // Product 6 joins category 10: its pages change membership.
    await products.update(6, () => {
      const row = { id: 6, name: "P6", categoryId: 10, version: 1 }
      db.table.set(6, row)
      return row
    })
    expect((await list.get({ categoryId: 10, page: 1 })).items.map((p) => p.id)).toEqual([3, 6])
    await list.get({ categoryId: 10, page: 0 })
    await list.get({ categoryId: 20, page: 0 })
    expect(db.log).toEqual(["ids 10/1", "ids 10/0"])
  })

  it("cursor pages: each cursor is its own key, and the answer carries the next cursor", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, { loadMany: db.loadMany })
    const list = createIdList(cache, CategoryCursor, products, db.byCursor)
    const first = await list.get({ categoryId: 10, after: null })
    expect(first.items.map((p) => p.id)).toEqual([1, 2])
    expect(first.next).toBe("2")
    const second = await list.get({ categoryId: 10, after: first.next })
    expect(second).toMatchObject({ items: [{ id: 3 }], next: null })
  })

  it("an id whose record is gone is left out of the answer", async () => {
    const db = makeDb()
    const cache = await tier.open()
    const products = createRepository(cache, Products, { loadMany: db.loadMany })
    const list = createIdList(cache, CategoryPages, products, db.byPage)
    await list.get({ categoryId: 20, page: 0 })
    db.table.delete(4)
    await products.invalidate(4)
    expect((await list.get({ categoryId: 20, page: 0 })).items.map((p) => p.id)).toEqual([5])
  })
})

describe("IdList.make (Effect form)", () => {
  it("reads the page's records through the Effect repository", async () => {
    const db = makeDb()
    const program = Effect.gen(function* () {
      const products = yield* Repository.make(Products, {
        loadMany: (ids) => Effect.promise(() => db.loadMany(ids)),
      })
      const list = yield* IdList.make(CategoryPages, products, (params) =>
        Effect.promise(() => db.byPage(params)),
      )
      return yield* list.get({ categoryId: 20, page: 0 })
    })
    const page = await Effect.runPromise(program.pipe(Effect.provide(Cache.layer())))
    expect(page.items.map((p) => p.id)).toEqual([4, 5])
    expect(db.log).toEqual(["ids 20/0", "rows 4,5"])
  })
})
