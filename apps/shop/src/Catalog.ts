/**
 * The shop's SQL: every statement the routes send, each counted on the
 * route's meter. Rows come back in the API's shape (`Model.ts`).
 */
import type { Database, Queryable } from "./db/Database.ts"
import type { Meter } from "./Meters.ts"
import type { Product, ProductChanges, ReviewStats } from "./Model.ts"

/** Products per page of a category listing or of search results. */
export const PAGE_SIZE = 24

const PRODUCT_COLUMNS = `
  p.id, p.slug, p.name, p.description, p.price_cents, p.stock, p.version,
  c.id AS category_id, c.slug AS category_slug, c.name AS category_name,
  b.id AS brand_id, b.name AS brand_name
FROM products p
JOIN categories c ON c.id = p.category_id
JOIN brands b ON b.id = p.brand_id`

interface ProductRow {
  id: number
  slug: string
  name: string
  description: string
  price_cents: number
  stock: number
  version: number
  category_id: number
  category_slug: string
  category_name: string
  brand_id: number
  brand_name: string
}

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  description: row.description,
  priceCents: row.price_cents,
  stock: row.stock,
  version: row.version,
  category: { id: row.category_id, slug: row.category_slug, name: row.category_name },
  brand: { id: row.brand_id, name: row.brand_name },
})

const run = <Row>(db: Queryable, meter: Meter, sql: string, params: ReadonlyArray<unknown>) => {
  meter.route.dbCalls++
  return db.query<Row>(sql, params)
}

/** One product with its category and brand, or `undefined`. */
export const findProduct = async (db: Queryable, meter: Meter, id: number): Promise<Product | undefined> => {
  const [row] = await run<ProductRow>(db, meter, `SELECT ${PRODUCT_COLUMNS} WHERE p.id = $1`, [id])
  return row === undefined ? undefined : toProduct(row)
}

/** Many products in one statement, in the order of `ids` (`undefined` where there is none). */
export const findProducts = async (
  db: Queryable,
  meter: Meter,
  ids: ReadonlyArray<number>,
): Promise<Array<Product | undefined>> => {
  const rows = await run<ProductRow>(db, meter, `SELECT ${PRODUCT_COLUMNS} WHERE p.id = ANY($1::int[])`, [
    ids,
  ])
  const byId = new Map(rows.map((row) => [row.id, toProduct(row)]))
  return ids.map((id) => byId.get(id))
}

/** Whether the category exists. */
export const categoryExists = async (db: Queryable, meter: Meter, id: number): Promise<boolean> =>
  (await run<{ id: number }>(db, meter, "SELECT id FROM categories WHERE id = $1", [id])).length > 0

/** The ids of one page of a category's products, by id. */
export const categoryProductIds = async (
  db: Queryable,
  meter: Meter,
  categoryId: number,
  page: number,
): Promise<Array<number>> =>
  (
    await run<{ id: number }>(
      db,
      meter,
      "SELECT id FROM products WHERE category_id = $1 ORDER BY id LIMIT $2 OFFSET $3",
      [categoryId, PAGE_SIZE, (page - 1) * PAGE_SIZE],
    )
  ).map((row) => row.id)

/**
 * Applies `changes` to a product in a transaction and returns the new row
 * (its version incremented) and the category it was in, or `undefined` when
 * there is no such product.
 */
export const updateProduct = (
  db: Database,
  meter: Meter,
  id: number,
  changes: ProductChanges,
): Promise<Product | undefined> =>
  db.transaction(async (tx) => {
    const updated = await run<{ id: number }>(
      tx,
      meter,
      `UPDATE products SET
         price_cents = COALESCE($2, price_cents),
         stock = COALESCE($3, stock),
         name = COALESCE($4, name),
         version = version + 1
       WHERE id = $1 RETURNING id`,
      [id, changes.priceCents ?? null, changes.stock ?? null, changes.name ?? null],
    )
    if (updated.length === 0) return undefined
    return findProduct(tx, meter, id)
  })

/** Review statistics of a product, computed by the database. */
export const reviewStats = async (db: Queryable, meter: Meter, productId: number): Promise<ReviewStats> => {
  const rows = await run<{ rating: number; n: number }>(
    db,
    meter,
    "SELECT rating, count(*)::int AS n FROM reviews WHERE product_id = $1 GROUP BY rating",
    [productId],
  )
  const histogram = [0, 0, 0, 0, 0]
  for (const row of rows) histogram[row.rating - 1] = row.n
  const count = histogram.reduce((a, b) => a + b, 0)
  const sum = histogram.reduce((a, n, i) => a + n * (i + 1), 0)
  return { productId, count, average: count === 0 ? 0 : Math.round((sum / count) * 100) / 100, histogram }
}

/** Adds a review; `false` when the product does not exist. */
export const addReview = async (
  db: Queryable,
  meter: Meter,
  review: { productId: number; userId: number; rating: number; body: string },
): Promise<boolean> => {
  const rows = await run<{ id: number }>(
    db,
    meter,
    `INSERT INTO reviews (product_id, user_id, rating, body)
     SELECT id, $2, $3, $4 FROM products WHERE id = $1 RETURNING id`,
    [review.productId, review.userId, review.rating, review.body],
  )
  return rows.length > 0
}

/** Ids of one page of products whose name contains every term (case-insensitive), in a category or all (0). */
export const search = async (
  db: Queryable,
  meter: Meter,
  terms: ReadonlyArray<string>,
  categoryId: number,
  page: number,
): Promise<Array<number>> =>
  (
    await run<{ id: number }>(
      db,
      meter,
      `SELECT id FROM products
       WHERE name ILIKE ALL($1::text[]) AND ($2 = 0 OR category_id = $2)
       ORDER BY id LIMIT $3 OFFSET $4`,
      [
        terms.map((t) => `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`),
        categoryId,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
      ],
    )
  ).map((row) => row.id)

/** Adds buffered view counts, all products in one statement. */
export const addViews = async (
  db: Queryable,
  meter: Meter,
  views: ReadonlyArray<readonly [productId: number, count: number]>,
): Promise<void> => {
  await run(
    db,
    meter,
    `INSERT INTO product_views (product_id, views)
     SELECT * FROM unnest($1::int[], $2::bigint[])
     ON CONFLICT (product_id) DO UPDATE SET views = product_views.views + EXCLUDED.views`,
    [views.map(([id]) => id), views.map(([, n]) => n)],
  )
}

/** The stored view count of a product. */
export const views = async (db: Queryable, meter: Meter, productId: number): Promise<number> => {
  const [row] = await run<{ views: number }>(
    db,
    meter,
    "SELECT views::int AS views FROM product_views WHERE product_id = $1",
    [productId],
  )
  return row?.views ?? 0
}
