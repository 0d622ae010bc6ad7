import { fileURLToPath } from "node:url"
import { createCache, Keyspace, type StrataCache } from "@strata/core"
import { Computed } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Schema } from "effect"

// #region keyspace
/** A product's average rating, per product version: a new version is a new key. */
const Ratings = Keyspace.make({
  name: "shop.rating",
  key: Schema.Struct({ productId: Schema.Int, version: Schema.Int }),
  value: Schema.Number,
  ttl: "1 hour",
  tags: ({ productId }) => [`product:${productId}`], // a new review drops every version's rating
})
// #endregion keyspace

const reviews = {
  queries: 0,
  /** The expensive query: an aggregate over every review of the product. */
  async averageRating(productId: number): Promise<number> {
    reviews.queries++
    return 4 + (productId % 10) / 10
  },
}

// #region classes
const makeClasses = (cache: StrataCache) => {
  class Cart {
    constructor(readonly lines: ReadonlyArray<{ readonly cents: number; readonly quantity: number }>) {}

    /** Computed on first use, once per Cart object (Python's cached_property). */
    @Computed.lazy
    get totalCents(): number {
      return this.lines.reduce((sum, line) => sum + line.cents * line.quantity, 0)
    }
  }

  class ProductPage {
    constructor(
      readonly id: number,
      readonly version: number,
    ) {}

    /** Cached across objects and processes, by product id and version. */
    @Computed.cached({
      cache,
      keyspace: Ratings,
      key: (self: ProductPage) => ({ productId: self.id, version: self.version }),
    })
    async rating(): Promise<number> {
      return reviews.averageRating(this.id)
    }
  }
  return { Cart, ProductPage }
}
// #endregion classes

/** Runs the computed values on the memory tier, or on L1 + Redis when given a Redis URL. */
export const main = async (redisUrl?: string) => {
  const cache = await createCache(
    redisUrl === undefined
      ? {}
      : {
          l2: RedisStore.layer({ url: redisUrl, prefix: "sample-computed:" }),
          bus: RedisBus.layer({ url: redisUrl, channel: "sample-computed:bus" }),
        },
  )
  const { Cart, ProductPage } = makeClasses(cache)
  // #region use
  const cart = new Cart([
    { cents: 450, quantity: 2 },
    { cents: 1200, quantity: 1 },
  ])
  const total = cart.totalCents // computed once for this cart

  const first = await new ProductPage(7, 3).rating() // one query
  const again = await new ProductPage(7, 3).rating() // another object, same product version: cached
  await cache.invalidateTag("product:7") // a new review
  const afterReview = await new ProductPage(7, 3).rating() // queried again
  // #endregion use
  await cache.close()
  return { total, ratings: [first, again, afterReview], queries: reviews.queries }
}

// Vitest does not lower TC39 decorators for Node 20: the docs test runs this file with tsx.
if (process.argv[1] === fileURLToPath(import.meta.url))
  process.stdout.write(JSON.stringify(await main(process.env.REDIS_URL)))
