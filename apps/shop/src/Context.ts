/**
 * What the routes share: the database, the cache, the view-count writer,
 * the exchange-rate upstream and the meters.
 */
import type { Cache, StrataCache } from "@strata/core"
import type { Effect } from "effect"
import type { Database } from "./db/Database.ts"
import type { Meters } from "./Meters.ts"
import type { Views } from "./Views.ts"

/**
 * The cache as the shop uses it. The pattern APIs of `@strata/patterns` are
 * used in their Effect form over `service` and run by `run`, so that with
 * tracing on every cache call is a child of the request's span; the Promise
 * facade serves the Promise-only APIs (`@strata/http`'s `CachedFetch`).
 */
export interface ShopCache {
  /** The engine. */
  readonly service: Cache.Service
  /** Runs a cache effect and resolves with its value, or rejects with its typed error. */
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  /**
   * A Promise-facade cache on the same tiers: this cache itself without
   * tracing; with tracing, a second cache on the same tiers (the facade
   * cannot be built under the shop's tracer), whose calls are not traced.
   */
  readonly facade: StrataCache
  readonly stats: () => Cache.Stats
  readonly close: () => Promise<void>
  /** With tracing on: runs `handler` as the span `name`, the parent of the cache's spans inside it. */
  readonly traced?: <A>(name: string, handler: () => Promise<A>) => Promise<A>
}

/** The shop's parts, built once by `Shop.start`. */
export interface ShopContext {
  readonly db: Database
  readonly cache: ShopCache
  readonly meters: Meters
  /** View counts, written behind (`WriteBehind`). */
  readonly views: Views
  /** The exchange-rate service's base URL (the fake one the shop started, unless `RATES_URL` names another). */
  readonly ratesUrl: string
}
