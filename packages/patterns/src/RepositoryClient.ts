/**
 * The Promise form of read-through repositories, for code that does not use
 * Effect: `createRepository(cache, keyspace, { loadMany })` over a cache from
 * core's `createCache`. The rules are those of `Repository` (batched misses,
 * not found is `undefined` and not cached, duplicates loaded once); a loader
 * that throws or rejects fails the call with core's `LoaderFailed` (the
 * thrown value as `cause`), and every other failure is the same typed error
 * as in the Effect form.
 *
 * @since 0.1.0
 */
import type { Cache, Keyspace, LoaderFailed, StrataCache } from "@strata/core"
import { Context, Effect, Option } from "effect"
import { fromPromise, run } from "./internal/promise.ts"
import * as Repository from "./Repository.ts"
import type * as WriteThrough from "./WriteThrough.ts"

/**
 * The options of {@link createRepository}. The write-through options
 * (`version`, `views`, `related`) are those `update` uses (see `WriteThrough`).
 */
export interface CreateRepositoryOptions<K, V> extends WriteThrough.Options<K, V> {
  /** Loads the rows of many ids in one call; an id with no row is left out of the map (not found). */
  readonly loadMany: (ids: ReadonlyArray<K>) => ReadonlyMap<K, V> | PromiseLike<ReadonlyMap<K, V>>
  /** Loads one row (`undefined`: not found); used instead of `loadMany` when a batch misses one id. */
  readonly load?: ((id: K) => V | undefined | PromiseLike<V | undefined>) | undefined
  /** TTL overrides and loader timeouts for the loads (see core's `LoadOptions`). */
  readonly loadOptions?: Cache.LoadOptions | undefined
}

/** A read-through repository with a Promise API. */
export interface RepositoryClient<K, V> {
  readonly keyspace: Keyspace.Keyspace<K, V>
  /** The Effect form of this repository (its loaders' failures are `LoaderFailed`). */
  readonly repository: Repository.Repository<K, V, LoaderFailed>
  /** The record of `id`, or `undefined` when the source has none. Calls in the same tick share one `loadMany`. */
  get(id: K): Promise<V | undefined>
  /** The records of `ids` in their order (`undefined`: not found); one `loadMany` call for all misses. */
  getMany(ids: ReadonlyArray<K>): Promise<Array<V | undefined>>
  /** Drops the cached record of `id` everywhere, so the next read loads it. */
  invalidate(id: K): Promise<void>
  /**
   * Write-through: awaits `write` (the change to the source of truth; what
   * it throws is rethrown as is, and the cache is untouched), then caches the
   * record it returns keeping the newest source version, writes the views and
   * drops the related keys and tags. Rejects with a typed cache error when
   * the cache cannot be written after the source was (the record's key is
   * then deleted).
   */
  update(id: K, write: () => V | PromiseLike<V>): Promise<V>
}

/**
 * A read-through repository over `keyspace` in `cache`. Use it while the
 * cache is open: after `cache.close()` its calls fail.
 *
 * @example
 * ```ts
 * const users = createRepository(cache, Users, {
 *   loadMany: async (ids) => new Map((await db.findUsers(ids)).map((u) => [u.id, u])),
 * })
 * const [a, b] = await users.getMany([1, 2]) // User | undefined each; one query for the misses
 * ```
 */
export const createRepository = <K, V>(
  cache: StrataCache,
  keyspace: Keyspace.Keyspace<K, V>,
  options: CreateRepositoryOptions<K, V>,
): RepositoryClient<K, V> => {
  const { load, loadMany, ...rest } = options
  const repository = Repository.makeWith(
    cache.service,
    keyspace,
    {
      ...rest,
      loadMany: fromPromise(keyspace.id, loadMany),
      load: load === undefined ? undefined : fromPromise(keyspace.id, load),
    },
    Context.empty(),
  )
  return {
    keyspace,
    repository,
    get: (id) => run(repository.get(id)).then(Option.getOrUndefined),
    getMany: (ids) => run(repository.getMany(ids)).then((found) => found.map(Option.getOrUndefined)),
    invalidate: (id) => run(repository.invalidate(id)),
    update: async (id, write) => {
      const record = await write()
      return run(repository.update(id, Effect.succeed(record)))
    },
  }
}
