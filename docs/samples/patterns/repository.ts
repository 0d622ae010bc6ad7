import { createCache, Keyspace } from "@strata/core"
import { createRepository } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

// #region keyspace
const Product = Schema.Struct({ id: Schema.Int, name: Schema.String, priceCents: Schema.Int })
type Product = typeof Product.Type

const Products = Keyspace.make({
  name: "shop.product",
  key: Schema.Int,
  value: Product,
  ttl: "10 minutes",
})
// #endregion keyspace

/** The database: a products table and its batch query, which records what it was asked for. */
const makeDatabase = () => {
  const table = new Map<number, Product>(
    [1, 2, 3, 4, 5].map((id) => [id, { id, name: `Product ${id}`, priceCents: 100 * id }]),
  )
  const queries: Array<ReadonlyArray<number>> = []
  return {
    queries,
    /** `SELECT * FROM products WHERE id = ANY($1)`: the rows found, by id. */
    async findProducts(ids: ReadonlyArray<number>): Promise<Map<number, Product>> {
      queries.push(ids)
      return new Map(ids.flatMap((id) => (table.has(id) ? [[id, table.get(id)!] as const] : [])))
    },
  }
}

/** Runs the repository on the memory tier, or on L1 + Redis when given a Redis URL. */
export const main = async (redisUrl?: string) => {
  const db = makeDatabase()
  const cache = await createCache(
    redisUrl === undefined
      ? {}
      : {
          l2: RedisStore.layer({ url: redisUrl, prefix: "sample:" }),
          bus: RedisBus.layer({ url: redisUrl, channel: "sample:bus" }),
        },
  )
  // #region repository
  const products = createRepository(cache, Products, {
    loadMany: (ids) => db.findProducts(ids), // one query for every miss of a batch
  })

  const first = await products.getMany([3, 1, 2]) // all misses: one query [3, 1, 2]
  const second = await products.getMany([2, 4, 99, 4]) // 2 is cached: one query [4, 99]
  // Gets in the same tick are batched into one query too.
  const [five, one] = await Promise.all([products.get(5), products.get(1)]) // one query [5]
  // #endregion repository
  await cache.close()
  return {
    first: first.map((p) => p?.name),
    second: second.map((p) => p?.id), // 99 does not exist: undefined, and not cached
    five: five?.priceCents,
    one: one?.name,
    queries: db.queries,
  }
}
