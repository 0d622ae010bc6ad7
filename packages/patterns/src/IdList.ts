/**
 * ID-list caching: a list query caches only the ids of its rows, and the
 * rows are read through a repository in one batched read. A record changed
 * by a write-through is seen in every list that holds its id without
 * touching the lists; only a change of membership (a new product in the
 * category, a different order) needs the lists dropped, by tag.
 *
 * The list keyspace's key is the query's parameters, with the page
 * (`page`/`offset`) or the cursor in it; its value is a {@link Page}: the
 * ids of this page and the cursor of the next one (`null` on the last
 * page, or when pages are numbered). `IdList.pageSchema(idSchema)` builds
 * that value schema. Ids whose record no longer exists (deleted since the
 * list was cached) are left out of the answer.
 *
 * @since 0.1.0
 */
import type { Cache, InvalidKey, Keyspace, StoreError, StrataCache } from "@strata/core"
import { Cache as CacheService } from "@strata/core"
import { Effect, Option, Schema } from "effect"
import { fromPromise, run } from "./internal/promise.ts"
import type * as QueryCache from "./QueryCache.ts"
import type * as Repository from "./Repository.ts"
import type { RepositoryClient } from "./RepositoryClient.ts"

/** One page of a list: its ids, in order, and the cursor of the next page (`null`: none). */
export interface Page<Id> {
  readonly ids: ReadonlyArray<Id>
  readonly next: string | null
}

/** The value schema of a list keyspace whose ids match `id`. */
export const pageSchema = <S extends Schema.Top>(id: S) =>
  Schema.Struct({ ids: Schema.Array(id), next: Schema.NullOr(Schema.String) })

/** One page of a list, with its records. */
export interface Items<V> {
  readonly items: ReadonlyArray<V>
  readonly next: string | null
}

/** A cached ID list. */
export interface IdList<P, V, E> {
  /** The page for `params`: its ids cached (the query runs once), its records read through the repository in one batch. */
  readonly get: (
    params: P,
    options?: Cache.LoadOptions,
  ) => Effect.Effect<Items<V>, QueryCache.QueryError<E> | Repository.ReadError<E>>
  /** Drops the cached page for `params` everywhere. */
  readonly invalidate: (params: P) => Effect.Effect<void, InvalidKey | StoreError>
}

/** A cached ID list over a cache service. */
export const makeWith = <P, Id, V, E>(
  cache: Cache.Service,
  keyspace: Keyspace.Keyspace<P, Page<Id>>,
  repository: Repository.Repository<Id, V, E>,
  query: (params: P) => Effect.Effect<Page<Id>, E>,
): IdList<P, V, E> => ({
  get: (params, options) =>
    Effect.gen(function* () {
      const page = yield* cache.getOrSet(keyspace, params, query, options)
      const found = yield* repository.getMany(page.ids)
      const items: Array<V> = []
      for (const row of found) if (Option.isSome(row)) items.push(row.value)
      return { items, next: page.next }
    }),
  invalidate: (params) => cache.delete(keyspace, params),
})

/**
 * A cached ID list over the `Cache` service: `query` returns a page of ids,
 * `repository` turns them into records.
 *
 * @example
 * ```ts
 * const byCategory = yield* IdList.make(CategoryPages, products, ({ categoryId, page }) =>
 *   Effect.map(db.productIds(categoryId, page), (ids) => ({ ids, next: null })),
 * )
 * const { items } = yield* byCategory.get({ categoryId: 10, page: 1 })
 * ```
 */
export const make = <P, Id, V, E, R>(
  keyspace: Keyspace.Keyspace<P, Page<Id>>,
  repository: Repository.Repository<Id, V, E>,
  query: (params: P) => Effect.Effect<Page<Id>, E, R>,
): Effect.Effect<IdList<P, V, E>, never, CacheService.Cache | R> =>
  Effect.gen(function* () {
    const cache = yield* CacheService.Cache
    const context = yield* Effect.context<R>()
    return makeWith(cache, keyspace, repository, (params) => Effect.provideContext(query(params), context))
  })

/** A cached ID list with a Promise API. */
export interface IdListClient<P, V> {
  /** The page for `params` with its records (ids whose record is gone are left out). */
  get(params: P, options?: Cache.LoadOptions): Promise<Items<V>>
  /** Drops the cached page for `params` everywhere. */
  invalidate(params: P): Promise<void>
}

/**
 * The Promise form of {@link make}: `repository` is a `createRepository` client.
 *
 * @example
 * ```ts
 * const byCategory = createIdList(cache, CategoryPages, products, async ({ categoryId, page }) => ({
 *   ids: await db.productIds(categoryId, page),
 *   next: null,
 * }))
 * const { items } = await byCategory.get({ categoryId: 10, page: 1 })
 * ```
 */
export const createIdList = <P, Id, V>(
  cache: StrataCache,
  keyspace: Keyspace.Keyspace<P, Page<Id>>,
  repository: RepositoryClient<Id, V>,
  query: (params: P) => Page<Id> | PromiseLike<Page<Id>>,
): IdListClient<P, V> => {
  const effect = makeWith(cache.service, keyspace, repository.repository, fromPromise(keyspace.id, query))
  return {
    get: (params, options) => run(effect.get(params, options)),
    invalidate: (params) => run(effect.invalidate(params)),
  }
}
