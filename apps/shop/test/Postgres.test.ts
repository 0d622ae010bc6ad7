/**
 * The shop on PostgreSQL through node-postgres (the `DATABASE_URL` path)
 * instead of embedded PGlite: the same SQL, seeded in a schema of its own
 * with a random name, dropped afterwards. The server is
 * `SHOP_TEST_DATABASE_URL` when set; otherwise a PostgreSQL wire-protocol
 * server this test starts on a free loopback port (PGlite behind
 * `@electric-sql/pglite-socket`), so the test depends on no server of the
 * machine's.
 */
import { randomBytes } from "node:crypto"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { RedisHarness } from "@strata/testkit"
import pg from "pg"
import { afterAll, beforeAll, expect, it } from "vitest"
import * as Shop from "../src/Shop.ts"

let url = process.env.SHOP_TEST_DATABASE_URL ?? ""
// A shared server gets a schema of our own; the test's own server is ours whole (and PGlite's socket
// ignores the startup options that set a search_path).
const ownServer = url === ""
const schema = ownServer ? "public" : `shop_test_${randomBytes(6).toString("hex")}`
let shop: Shop.RunningShop | undefined
let server: { readonly socket: PGLiteSocketServer; readonly db: PGlite } | undefined

beforeAll(async () => {
  if (url === "") {
    const db = await PGlite.create()
    const port = await RedisHarness.freePort()
    const socket = new PGLiteSocketServer({ db, port, host: "127.0.0.1", maxConnections: 16 })
    await socket.start()
    server = { socket, db }
    url = `postgres://postgres@127.0.0.1:${port}/postgres`
  }
  shop = await Shop.start({
    databaseUrl: url,
    ...(ownServer ? {} : { databaseSchema: schema }),
    seed: { categories: 5, brands: 5, products: 300, reviews: 600 },
    viewFlushMillis: 60_000,
  })
})
afterAll(async () => {
  await shop?.close()
  if (ownServer) {
    await server?.socket.stop()
    await server?.db.close()
    return
  }
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  } finally {
    await admin.end()
  }
})

const get = async (path: string) => (await (await fetch(`${shop!.url}${path}`)).json()) as any

it("seeds its own schema, serves products, applies updates in a transaction and flushes views", async () => {
  expect(shop!.context.db.kind).toBe("postgres")
  expect(shop!.seeded).toBe(true)
  const [tables] = await shop!.context.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1",
    [schema],
  )
  expect(tables!.n).toBe(5)

  const product = await get("/api/products/12")
  expect(product).toMatchObject({ id: 12, category: { id: 3 }, brand: { id: 5 }, version: 1 })
  const response = await fetch(`${shop!.url}/api/products/12`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ priceCents: 4_321 }),
  })
  expect(await response.json()).toMatchObject({ priceCents: 4_321, version: 2 })
  expect(await get("/api/products/12")).toMatchObject({ priceCents: 4_321, version: 2 })

  // A transaction that throws leaves nothing behind.
  await expect(
    shop!.context.db.transaction(async (tx) => {
      await tx.query("UPDATE products SET price_cents = 1 WHERE id = 12")
      throw new Error("abort")
    }),
  ).rejects.toThrow("abort")
  const [row] = await shop!.context.db.query<{ price_cents: number }>(
    "SELECT price_cents FROM products WHERE id = 12",
  )
  expect(row!.price_cents).toBe(4_321)

  const stats = await get("/api/products/12/reviews/stats")
  expect(stats.count).toBe(stats.histogram.reduce((a: number, b: number) => a + b, 0))
  expect((await get(`/api/categories/3/products`)).products.length).toBeGreaterThan(0)
  expect((await get(`/api/search?q=${encodeURIComponent("SWIFT")}`)).products.length).toBeGreaterThan(0)

  await fetch(`${shop!.url}/api/views/flush`, { method: "POST" })
  expect(await get("/api/products/12/views")).toMatchObject({ stored: 2, pending: 0 })
})
