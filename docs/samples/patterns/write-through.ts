import { createCache, Keyspace } from "@strata/core"
import { createRepository, WriteThrough } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

// #region keyspaces
const Product = Schema.Struct({
  id: Schema.Int,
  name: Schema.String,
  categoryId: Schema.Int,
  version: Schema.Int, // the row's version column: every committed change bumps it
})
type Product = typeof Product.Type

const Products = Keyspace.make({
  name: "shop.wt.product",
  key: Schema.Int,
  value: Product,
  ttl: "10 minutes",
})
const Summaries = Keyspace.make({
  name: "shop.wt.summary",
  key: Schema.Int,
  value: Schema.Struct({ name: Schema.String, version: Schema.Int }),
  ttl: "10 minutes",
})
const CategoryPages = Keyspace.make({
  name: "shop.wt.category-page",
  key: Schema.Int,
  value: Schema.String,
  ttl: "10 minutes",
  tags: (categoryId) => [`category:${categoryId}`],
})
// #endregion keyspaces

/** The database: a products table whose commits bump the row version. */
const makeDatabase = () => {
  const table = new Map<number, Product>([[7, { id: 7, name: "Tea", categoryId: 1, version: 1 }]])
  return {
    async findProducts(ids: ReadonlyArray<number>) {
      return new Map(ids.flatMap((id) => (table.has(id) ? [[id, table.get(id)!] as const] : [])))
    },
    /** A transaction: renames the product and returns the committed row. */
    async rename(id: number, name: string): Promise<Product> {
      if (name.length === 0) throw new Error("name must not be empty: rolled back")
      const row = { ...table.get(id)!, name, version: table.get(id)!.version + 1 }
      table.set(id, row)
      return row
    },
  }
}

/** Runs the write-through on the memory tier, or on L1 + Redis when given a Redis URL. */
export const main = async (redisUrl?: string) => {
  const db = makeDatabase()
  const cache = await createCache(
    redisUrl === undefined
      ? {}
      : {
          l2: RedisStore.layer({ url: redisUrl, prefix: "sample-wt:" }),
          bus: RedisBus.layer({ url: redisUrl, channel: "sample-wt:bus" }),
        },
  )
  await cache.keyspace(CategoryPages).set(1, "<ul><li>Tea</li></ul>")
  // #region repository
  const products = createRepository(cache, Products, {
    loadMany: (ids) => db.findProducts(ids),
    version: (product) => product.version, // the newer source version wins in the cache
    views: [
      WriteThrough.view(Summaries, {
        key: (id: number) => id,
        from: (product: Product) => ({ name: product.name, version: product.version }),
        version: (summary) => summary.version,
      }),
    ],
    related: (_id, product) => ({ tags: [`category:${product.categoryId}`] }),
  })

  const renamed = await products.update(7, () => db.rename(7, "Green tea"))
  const rolledBack = await products.update(7, () => db.rename(7, "")).catch((e: Error) => e.message)
  // #endregion repository
  const result = {
    renamed,
    rolledBack,
    cached: await cache.keyspace(Products).get(7), // written through: no load needed
    summary: await cache.keyspace(Summaries).get(7),
    categoryPage: await cache.keyspace(CategoryPages).get(1), // dropped by its tag
  }
  await cache.close()
  return result
}
