/**
 * Query caching: a query's full result cached under its parameters. The
 * keyspace's key schema is the query's parameters (filters, sort, page or
 * cursor: every parameter that changes the result must be in the key), its
 * value schema the result, and its `tags` (from the parameters) are what a
 * change invalidates: `invalidateTag("category:10")` drops every page of
 * every query of category 10.
 *
 * A query runs once per parameters for all concurrent callers (the
 * engine's `getOrSet`: single-flight, leases across processes, no stale
 * fill). For lists of records that change more often than the list itself,
 * cache the ids instead: see `IdList`.
 *
 * @since 0.1.0
 */
import type { Cache, CacheClosed, InvalidKey, Keyspace, StoreError, StrataCache } from "@strata/core"
import { Cache as CacheService } from "@strata/core"
import { Effect } from "effect"
import { fromPromise, run } from "./internal/promise.ts"

/** What a cached query can fail with: the query's own errors and the engine's. */
export type QueryError<E> = Cache.LoadError<E>

/** A cached query. */
export interface QueryCache<P, A, E> {
  readonly keyspace: Keyspace.Keyspace<P, A>
  /** The result for `params`: cached, or run once for all concurrent callers and cached. */
  readonly get: (params: P, options?: Cache.LoadOptions) => Effect.Effect<A, QueryError<E>>
  /** Drops the cached result for `params` everywhere. */
  readonly invalidate: (params: P) => Effect.Effect<void, InvalidKey | StoreError | CacheClosed>
}

/** A cached query over a cache service; `run` runs with `context`'s services. */
export const makeWith = <P, A, E>(
  cache: Cache.Service,
  keyspace: Keyspace.Keyspace<P, A>,
  query: (params: P) => Effect.Effect<A, E>,
): QueryCache<P, A, E> => ({
  keyspace,
  get: (params, options) => cache.getOrSet(keyspace, params, query, options),
  invalidate: (params) => cache.delete(keyspace, params),
})

/**
 * A cached query over the `Cache` service.
 *
 * @example
 * ```ts
 * const topProducts = yield* QueryCache.make(TopProducts, ({ categoryId, page }) => db.topProducts(categoryId, page))
 * const page1 = yield* topProducts.get({ categoryId: 10, page: 1 })
 * ```
 */
export const make = <P, A, E, R>(
  keyspace: Keyspace.Keyspace<P, A>,
  query: (params: P) => Effect.Effect<A, E, R>,
): Effect.Effect<QueryCache<P, A, E>, never, CacheService.Cache | R> =>
  Effect.gen(function* () {
    const cache = yield* CacheService.Cache
    const context = yield* Effect.context<R>()
    return makeWith(cache, keyspace, (params) => Effect.provideContext(query(params), context))
  })

/** A cached query with a Promise API. */
export interface QueryCacheClient<P, A> {
  readonly keyspace: Keyspace.Keyspace<P, A>
  /** The result for `params`; a query that throws rejects with core's `LoaderFailed` and is not cached. */
  get(params: P, options?: Cache.LoadOptions): Promise<A>
  /** Drops the cached result for `params` everywhere. */
  invalidate(params: P): Promise<void>
}

/**
 * The Promise form of {@link make}, over a cache from `createCache`.
 *
 * @example
 * ```ts
 * const topProducts = createQueryCache(cache, TopProducts, ({ categoryId, page }) => db.topProducts(categoryId, page))
 * const page1 = await topProducts.get({ categoryId: 10, page: 1 })
 * ```
 */
export const createQueryCache = <P, A>(
  cache: StrataCache,
  keyspace: Keyspace.Keyspace<P, A>,
  query: (params: P) => A | PromiseLike<A>,
): QueryCacheClient<P, A> => {
  const effect = makeWith(cache.service, keyspace, fromPromise(keyspace.id, query))
  return {
    keyspace,
    get: (params, options) => run(effect.get(params, options)),
    invalidate: (params) => run(effect.invalidate(params)),
  }
}
