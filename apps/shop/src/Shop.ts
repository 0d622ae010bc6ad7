/**
 * Starts the shop: the database (embedded PGlite, or PostgreSQL at
 * `DATABASE_URL`), seeded on first start; the cache (L1 only, or L1 + Redis
 * with the Redis bus at `REDIS_URL`); the fake exchange-rate service on a
 * loopback port; the write-behind view-count writer; the rate limiters
 * (memory, or Redis at `REDIS_URL`); and the HTTP server on a loopback port.
 */
import { createCache, type Facade, MemoryStore } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { Cause, Effect, Exit, type Layer } from "effect"
import type { ShopCache, ShopContext } from "./Context.ts"
import * as Database from "./db/Database.ts"
import * as Seed from "./db/Seed.ts"
import * as Keyspaces from "./Keyspaces.ts"
import { Meters } from "./Meters.ts"
import * as RateLimits from "./RateLimits.ts"
import * as RatesServer from "./RatesServer.ts"
import * as Server from "./Server.ts"
import * as TracedCache from "./TracedCache.ts"
import * as Tracing from "./Tracing.ts"
import * as Views from "./Views.ts"

/** How to start the shop; every field has an embedded default. */
export interface ShopOptions {
  /** PostgreSQL URL; embedded in-memory PGlite when absent. */
  readonly databaseUrl?: string | undefined
  /** PostgreSQL schema to use (created when missing). */
  readonly databaseSchema?: string | undefined
  /** Redis URL for the shared tier, the bus and the rate limiters' counters; L1 and memory only when absent. */
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
  /** The API's rate limits (per IP, per user, proxy trust); see `RateLimits`. */
  readonly rateLimits?: RateLimits.RateLimitOptions | undefined
  /** An exchange-rate service to use; by default the shop starts its fake one (`RatesServer`). */
  readonly ratesUrl?: string | undefined
  /** The `max-age` the fake exchange-rate service sends, in seconds. Default 1 (revalidations show in a short demo). */
  readonly ratesMaxAgeSeconds?: number | undefined
}

/** A running shop. */
export interface RunningShop {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly context: ShopContext
  /** Whether this start seeded the database. */
  readonly seeded: boolean
  /** The fake exchange-rate service this shop started (none when `ratesUrl` was given). */
  readonly rates: RatesServer.RatesServer | undefined
  /** Stops the server, flushes the view counts, closes the limiters, the cache and the database. */
  readonly close: () => Promise<void>
}

const numberFrom = (value: string | undefined): number | undefined =>
  value === undefined || value === "" ? undefined : Number(value)

/**
 * The shop's options from the environment: `DATABASE_URL`, `DATABASE_SCHEMA`,
 * `REDIS_URL`, `PORT`, `SHOP_KEEP_CACHE`, `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `RATES_URL`, `SHOP_RATES_MAX_AGE`, `SHOP_RATE_LIMIT_PER_IP`,
 * `SHOP_RATE_LIMIT_PER_USER` and `SHOP_TRUST_PROXY` (see the README).
 */
export const optionsFromEnv = (env: NodeJS.ProcessEnv = process.env): ShopOptions => ({
  databaseUrl: env.DATABASE_URL || undefined,
  databaseSchema: env.DATABASE_SCHEMA || undefined,
  redisUrl: env.REDIS_URL || undefined,
  port: numberFrom(env.PORT),
  clearCacheOnSeed: env.SHOP_KEEP_CACHE !== "1",
  tracing: Tracing.layerFromEnv(env),
  ratesUrl: env.RATES_URL || undefined,
  ratesMaxAgeSeconds: numberFrom(env.SHOP_RATES_MAX_AGE),
  rateLimits: {
    perIp: numberFrom(env.SHOP_RATE_LIMIT_PER_IP),
    perUser: numberFrom(env.SHOP_RATE_LIMIT_PER_USER),
    trustProxy: numberFrom(env.SHOP_TRUST_PROXY),
  },
})

/** Runs an effect of the facade's engine, rejecting with its typed error (as the facade does). */
const runEffect = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  throw Cause.squash(exit.cause)
}

/** L1's bound on embedded defaults: under the scenario's working set, so some reads reach the memory store. */
export const EMBEDDED_L1_ENTRIES = 500

const makeCache = async (
  redisUrl: string | undefined,
  tracing: Layer.Layer<never> | undefined,
): Promise<ShopCache> => {
  const options: Facade.CreateCacheOptions =
    redisUrl === undefined
      ? // Embedded: a small L1 in front of the memory store, so the scenario shows both tiers at work.
        { name: "shop", l1: { maxEntries: EMBEDDED_L1_ENTRIES }, l2: MemoryStore.layer() }
      : {
          name: "shop",
          l1: { maxEntries: 50_000 },
          l2: RedisStore.layer({ url: redisUrl }),
          bus: RedisBus.layer({ url: redisUrl }),
        }
  const facade = await createCache(options)
  if (tracing === undefined)
    return {
      service: facade.service,
      run: runEffect,
      facade,
      stats: () => facade.stats(),
      close: () => facade.close(),
    }
  try {
    const traced = await TracedCache.make(options, tracing)
    return {
      ...traced,
      facade,
      close: async () => {
        await traced.close()
        await facade.close()
      },
    }
  } catch (error) {
    await facade.close()
    throw error
  }
}

/** Starts the shop and resolves when it listens. */
export const start = async (options: ShopOptions = {}): Promise<RunningShop> => {
  const maxAge = options.ratesMaxAgeSeconds ?? 1
  if (!Number.isSafeInteger(maxAge) || maxAge < 0)
    throw new Error(`ratesMaxAgeSeconds must be a whole number of seconds, got ${maxAge}`)
  const db = await Database.open({ url: options.databaseUrl, schema: options.databaseSchema })
  // What is open, closed in reverse order by `close` or when the start fails.
  const opened: Array<() => Promise<void>> = [() => db.close()]
  const closeAll = async () => {
    const closing = opened.splice(0).reverse()
    for (const close of closing) await close()
  }
  try {
    const seeded = await Seed.migrate(db, options.seed)
    const cache = await makeCache(options.redisUrl, options.tracing)
    opened.push(() => cache.close())
    if (seeded && options.clearCacheOnSeed !== false)
      for (const keyspace of Keyspaces.seeded) await cache.run(cache.service.clear(keyspace))
    const rates =
      options.ratesUrl === undefined ? await RatesServer.start({ maxAgeSeconds: maxAge }) : undefined
    if (rates !== undefined) opened.push(() => rates.close())
    const meters = new Meters()
    const views = await Views.start(
      db,
      meters.meter("view flush (write-behind)"),
      options.viewFlushMillis ?? 1_000,
    )
    opened.push(() => views.close())
    const limits = await RateLimits.make(options.rateLimits ?? {}, options.redisUrl)
    opened.push(() => limits.client.close())
    const context: ShopContext = { db, cache, meters, views, ratesUrl: options.ratesUrl ?? rates!.url }
    const app = Server.build(context, limits)
    opened.push(() => app.close())
    await app.listen({ host: "127.0.0.1", port: options.port ?? 0 })
    const address = app.server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return { url: `http://127.0.0.1:${port}`, context, seeded, rates, close: closeAll }
  } catch (error) {
    await closeAll()
    throw error
  }
}
