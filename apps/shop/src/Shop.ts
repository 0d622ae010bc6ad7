/**
 * Starts the shop: the database (embedded PGlite, or PostgreSQL at
 * `DATABASE_URL`), seeded on first start; the cache (L1 only, or L1 + Redis
 * with the Redis bus at `REDIS_URL`); the write-behind view buffer; and the
 * HTTP server on a loopback port.
 */
import { createCache, type Facade, type Keyspace } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import type { Layer } from "effect"
import type { ShopCache, ShopContext } from "./Context.ts"
import * as Database from "./db/Database.ts"
import * as Seed from "./db/Seed.ts"
import { Carts, CategoryProductIds, Products, ReviewStatsByProduct, SearchResults } from "./Keyspaces.ts"
import { Meters } from "./Meters.ts"
import { reader } from "./patterns/ReadThrough.ts"
import { ViewBuffer } from "./patterns/WriteBehind.ts"
import * as Server from "./Server.ts"
import * as TracedCache from "./TracedCache.ts"
import * as Tracing from "./Tracing.ts"

/** How to start the shop; every field has an embedded default. */
export interface ShopOptions {
  /** PostgreSQL URL; embedded in-memory PGlite when absent. */
  readonly databaseUrl?: string | undefined
  /** PostgreSQL schema to use (created when missing). */
  readonly databaseSchema?: string | undefined
  /** Redis URL for the shared tier and the bus; L1 only when absent. */
  readonly redisUrl?: string | undefined
  /** Loopback port; a free one when absent or 0. */
  readonly port?: number | undefined
  /** How often buffered view counts are written, in ms. Default 1,000. */
  readonly viewFlushMillis?: number | undefined
  /**
   * Whether a start that seeded a new database empties the shop's keyspaces
   * first (a shared cache may hold another database's rows). Default true.
   */
  readonly clearCacheOnSeed?: boolean | undefined
  /** An OpenTelemetry layer (`Tracing.layer`): requests and cache calls become spans. None by default. */
  readonly tracing?: Layer.Layer<never> | undefined
  /** Seed size; the demo's 10,000 products by default. */
  readonly seed?: Seed.SeedSize | undefined
}

/** A running shop. */
export interface RunningShop {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly context: ShopContext
  /** Whether this start seeded the database. */
  readonly seeded: boolean
  /** Stops the server, flushes the view buffer, closes the cache and the database. */
  readonly close: () => Promise<void>
}

/** The shop's options from the environment (`DATABASE_URL`, `DATABASE_SCHEMA`, `REDIS_URL`, `PORT`). */
export const optionsFromEnv = (env: NodeJS.ProcessEnv = process.env): ShopOptions => ({
  databaseUrl: env.DATABASE_URL || undefined,
  databaseSchema: env.DATABASE_SCHEMA || undefined,
  redisUrl: env.REDIS_URL || undefined,
  port: env.PORT ? Number(env.PORT) : undefined,
  clearCacheOnSeed: env.SHOP_KEEP_CACHE !== "1",
  tracing: Tracing.layerFromEnv(env),
})

const makeCache = async (
  redisUrl: string | undefined,
  tracing: Layer.Layer<never> | undefined,
): Promise<ShopCache> => {
  const options: Facade.CreateCacheOptions =
    redisUrl === undefined
      ? { name: "shop", l1: { maxEntries: 50_000 } }
      : {
          name: "shop",
          l1: { maxEntries: 50_000 },
          l2: RedisStore.layer({ url: redisUrl }),
          bus: RedisBus.layer({ url: redisUrl }),
        }
  if (tracing !== undefined) return TracedCache.make(options, tracing)
  const cache = await createCache(options)
  return {
    keyspace: (keyspace) => cache.keyspace(keyspace),
    invalidateTag: (tag) => cache.invalidateTag(tag),
    stats: () => cache.stats(),
    close: () => cache.close(),
  }
}

/** Starts the shop and resolves when it listens. */
export const start = async (options: ShopOptions = {}): Promise<RunningShop> => {
  const db = await Database.open({ url: options.databaseUrl, schema: options.databaseSchema })
  let cache: ShopCache | undefined
  try {
    const seeded = await Seed.migrate(db, options.seed)
    cache = await makeCache(options.redisUrl, options.tracing)
    if (seeded && options.clearCacheOnSeed !== false)
      for (const keyspace of [Products, CategoryProductIds, ReviewStatsByProduct, SearchResults, Carts])
        await cache.keyspace<any, any>(keyspace as Keyspace.Keyspace<any, any>).clear()
    const meters = new Meters()
    const context: ShopContext = {
      db,
      cache,
      meters,
      products: reader("shop.product", cache.keyspace(Products), Products.storeKey),
      categoryIds: reader(
        "shop.category.ids",
        cache.keyspace(CategoryProductIds),
        CategoryProductIds.storeKey,
      ),
      reviewStats: reader(
        "shop.review.stats",
        cache.keyspace(ReviewStatsByProduct),
        ReviewStatsByProduct.storeKey,
      ),
      searches: reader("shop.search", cache.keyspace(SearchResults), SearchResults.storeKey),
      carts: cache.keyspace(Carts),
      views: new ViewBuffer(db, meters.meter("view flush (write-behind)"), options.viewFlushMillis ?? 1_000),
    }
    const app = Server.build(context)
    await app.listen({ host: "127.0.0.1", port: options.port ?? 0 })
    const address = app.server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    const openCache = cache
    return {
      url: `http://127.0.0.1:${port}`,
      context,
      seeded,
      close: async () => {
        await app.close()
        await context.views.close()
        await openCache.close()
        await db.close()
      },
    }
  } catch (error) {
    await cache?.close()
    await db.close()
    throw error
  }
}
