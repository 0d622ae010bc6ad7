import { createCache, Keyspace } from "@strata/core"
import { createIdList, createQueryCache, createRepository, IdList } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

const Product = Schema.Struct({
  id: Schema.Int,
  name: Schema.String,
  categoryId: Schema.Int,
  version: Schema.Int,
})
type Product = typeof Product.Type
const Products = Keyspace.make({
  name: "shop.list.product",
  key: Schema.Int,
  value: Product,
  ttl: "10 minutes",
})

// #region keyspaces
/** A query's full result: the category's product count, per category. */
const CategoryCounts = Keyspace.make({
  name: "shop.category-count",
  key: Schema.Struct({ categoryId: Schema.Int }),
  value: Schema.Int,
  ttl: "5 minutes",
  tags: ({ categoryId }) => [`category:${categoryId}`],
})

/** Only the ids of a category's pages; the page number is part of the key. */
const CategoryPages = Keyspace.make({
  name: "shop.category-page",
  key: Schema.Struct({ categoryId: Schema.Int, page: Schema.Int }),
  value: IdList.pageSchema(Schema.Int), // { ids, next }
  ttl: "5 minutes",
  tags: ({ categoryId }) => [`category:${categoryId}`], // every page of a category, one tag
})
// #endregion keyspaces

const PAGE_SIZE = 2

const makeDatabase = () => {
  const table = new Map<number, Product>(
    [1, 2, 3].map((id) => [id, { id, name: `Product ${id}`, categoryId: 1, version: 1 }]),
  )
  const log: Array<string> = []
  const inCategory = (categoryId: number) =>
    [...table.values()].filter((p) => p.categoryId === categoryId).map((p) => p.id)
  return {
    log,
    async findProducts(ids: ReadonlyArray<number>) {
      log.push(`SELECT products ${ids.join(",")}`)
      return new Map(ids.flatMap((id) => (table.has(id) ? [[id, table.get(id)!] as const] : [])))
    },
    async countProducts({ categoryId }: { categoryId: number }) {
      log.push(`COUNT category ${categoryId}`)
      return inCategory(categoryId).length
    },
    async productIds({ categoryId, page }: { categoryId: number; page: number }) {
      log.push(`SELECT ids category ${categoryId} page ${page}`)
      return { ids: inCategory(categoryId).slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE), next: null }
    },
    async addProduct(product: Product) {
      table.set(product.id, product)
      return product
    },
  }
}

/** Runs the list caches on the memory tier, or on L1 + Redis when given a Redis URL. */
export const main = async (redisUrl?: string) => {
  const db = makeDatabase()
  const cache = await createCache(
    redisUrl === undefined
      ? {}
      : {
          l2: RedisStore.layer({ url: redisUrl, prefix: "sample-lists:" }),
          bus: RedisBus.layer({ url: redisUrl, channel: "sample-lists:bus" }),
        },
  )
  // #region lists
  const products = createRepository(cache, Products, {
    loadMany: (ids) => db.findProducts(ids),
    version: (p) => p.version,
    related: (_id, p) => ({ tags: [`category:${p.categoryId}`] }), // a change drops its category's lists
  })
  const counts = createQueryCache(cache, CategoryCounts, (params) => db.countProducts(params))
  const pages = createIdList(cache, CategoryPages, products, (params) => db.productIds(params))

  const count = await counts.get({ categoryId: 1 }) // COUNT, then cached
  const page0 = await pages.get({ categoryId: 1, page: 0 }) // ids, then one SELECT for both rows
  await pages.get({ categoryId: 1, page: 0 }) // all cached: no query
  await products.update(4, () => db.addProduct({ id: 4, name: "Product 4", categoryId: 1, version: 1 }))
  const page1 = await pages.get({ categoryId: 1, page: 1 }) // dropped by the tag: ids again; 4 is cached
  const countAfter = await counts.get({ categoryId: 1 })
  // #endregion lists
  await cache.close()
  return {
    count,
    page0: page0.items.map((p) => p.name),
    page1: page1.items.map((p) => p.id),
    countAfter,
    log: db.log,
  }
}
