import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

const Product = Schema.Struct({ id: Schema.Int, name: Schema.String, priceCents: Schema.Int })
type Product = typeof Product.Type

/** The source of truth: a table, and a switch to take it down. */
export const makeDatabase = () => {
  const rows = new Map<number, Product>([[7, { id: 7, name: "Green tea", priceCents: 450 }]])
  const db = {
    down: false,
    reads: 0,
    async findProduct(id: number): Promise<Product> {
      db.reads++
      if (db.down) throw new Error("database unavailable")
      const row = rows.get(id)
      if (row === undefined) throw new Error(`no product ${id}`)
      return row
    },
    async updatePrice(id: number, priceCents: number) {
      const row = rows.get(id)
      if (row !== undefined) rows.set(id, { ...row, priceCents })
    },
  }
  return db
}

// #region keyspace
const Products = Keyspace.make({
  name: "shop.product",
  key: Schema.Struct({ id: Schema.Int }),
  value: Product,
  ttl: "50 millis", // minutes in real life
  staleFor: "1 hour", // the grace window
})
// #endregion keyspace

export const makeCatalog = async (db: ReturnType<typeof makeDatabase>) => {
  // #region read-write
  const cache = await createCache({ loader: { softTimeout: "100 millis", hardTimeout: "2 seconds" } })
  const products = cache.keyspace(Products)

  // Read: the cache first; on a miss, the database, once for all concurrent callers.
  const product = (id: number) => products.getOrSet({ id }, () => db.findProduct(id))

  // Write: the database first, then drop the cached copy (in every process, with a bus).
  const changePrice = async (id: number, priceCents: number) => {
    await db.updatePrice(id, priceCents)
    await products.delete({ id })
  }
  // #endregion read-write
  return { product, changePrice, close: () => cache.close() }
}

export const main = async () => {
  const db = makeDatabase()
  const catalog = await makeCatalog(db)
  const first = await catalog.product(7)
  const cached = await catalog.product(7)
  await catalog.changePrice(7, 500)
  const afterWrite = await catalog.product(7)
  await new Promise((resolve) => setTimeout(resolve, 80)) // stale now
  db.down = true
  const whileDown = await catalog.product(7)
  await catalog.close()
  return { first, cached, afterWrite, whileDown, reads: db.reads }
}
