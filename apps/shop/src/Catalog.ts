/**
 * The shop's product catalog: the slow source of truth the cache sits in
 * front of. Here it is an in-memory table with a simulated query latency, a
 * query counter and an outage switch, so the demo runs with no server.
 */
import { Context, Effect, Layer, Schema } from "effect"

/** A product as the shop shows it. */
export class Product extends Schema.Class<Product>("shop/Product")({
  id: Schema.Int,
  slug: Schema.String,
  name: Schema.String,
  category: Schema.Literals(["shoes", "shirts", "hats", "bags"]),
  priceCents: Schema.Int,
  stock: Schema.Int,
  description: Schema.String,
}) {}

/** The catalog database is down. */
export class CatalogUnavailable extends Schema.TaggedError<CatalogUnavailable>()("CatalogUnavailable", {
  message: Schema.String,
}) {}

/** No product has this id. */
export class ProductNotFound extends Schema.TaggedError<ProductNotFound>()("ProductNotFound", {
  id: Schema.Int,
}) {}

export interface CatalogService {
  readonly findProduct: (id: number) => Effect.Effect<Product, CatalogUnavailable | ProductNotFound>
  readonly updatePrice: (
    id: number,
    priceCents: number,
  ) => Effect.Effect<Product, CatalogUnavailable | ProductNotFound>
  /** Queries served so far. */
  readonly queries: () => number
  /** Simulates an outage: every query fails until it is switched back. */
  readonly setDown: (down: boolean) => void
}

/** The catalog service. */
export class Catalog extends Context.Service<Catalog, CatalogService>()("shop/Catalog") {}

const categories = ["shoes", "shirts", "hats", "bags"] as const

/** The seed data: `count` products with ~1 KB descriptions. */
export const seed = (count: number): Map<number, Product> =>
  new Map(
    Array.from({ length: count }, (_, i) => {
      const id = i + 1
      const category = categories[i % categories.length]!
      return [
        id,
        new Product({
          id,
          slug: `${category}-${id}`,
          name: `${category[0]!.toUpperCase()}${category.slice(1, -1)} #${id}`,
          category,
          priceCents: 1_000 + ((id * 37) % 9_000),
          stock: (id * 13) % 100,
          description: `Product ${id}. `.repeat(80),
        }),
      ]
    }),
  )

/**
 * An in-memory catalog with `latencyMillis` per query (on Effect's clock, so
 * tests can drive it with `TestClock`).
 */
export const layerMemory = (options: { readonly products: number; readonly latencyMillis: number }) =>
  Layer.sync(Catalog, () => {
    const table = seed(options.products)
    let queries = 0
    let down = false
    const query = <A>(f: () => Effect.Effect<A, ProductNotFound>) =>
      Effect.sleep(options.latencyMillis).pipe(
        Effect.andThen((): Effect.Effect<A, ProductNotFound | CatalogUnavailable> => {
          queries++
          return down ? Effect.fail(new CatalogUnavailable({ message: "the catalog database is down" })) : f()
        }),
      )
    return Catalog.of({
      findProduct: (id) =>
        query(() => {
          const product = table.get(id)
          return product === undefined ? Effect.fail(new ProductNotFound({ id })) : Effect.succeed(product)
        }),
      updatePrice: (id, priceCents) =>
        query(() => {
          const product = table.get(id)
          if (product === undefined) return Effect.fail(new ProductNotFound({ id }))
          const updated = new Product({ ...product, priceCents })
          table.set(id, updated)
          return Effect.succeed(updated)
        }),
      queries: () => queries,
      setDown: (value) => {
        down = value
      },
    })
  })
