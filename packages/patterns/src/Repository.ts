/**
 * Read-through repositories: callers ask a repository for records by id and
 * never talk to the source of truth; the repository reads the cache and loads
 * what is missing, in batches.
 *
 * - `getMany(ids)` answers from L1, then reads every L1 miss from L2 in one
 *   round trip, then calls `loadMany` **once** with every id still missing,
 *   stores each row in both tiers and answers in the order asked (the
 *   engine's `getOrSetMany`: one flight and one lease per key, so two
 *   processes asking overlapping batches load each key once).
 * - `get(id)` calls made in the same tick (concurrent fibers, or Promise
 *   callers before their first `await`) are collected into one `getMany`
 *   (Effect's `RequestResolver`, the DataLoader of Effect: nothing to add).
 * - A missing row is "not found": `None` (`undefined` in the Promise form),
 *   not an error, and not cached.
 * - Duplicate ids are loaded once and answered at each of their positions.
 *   An empty batch answers `[]` without any I/O.
 * - `loadMany` returns a `Map` from id to row, so rows cannot come back in
 *   the wrong order. Ids are compared by their storage key (the keyspace's
 *   canonical encoding), so struct ids need not be the same objects. A row
 *   for an id that was not asked for fails the batch with
 *   `InvalidLoaderResult` (`reason: "unrequested-id"`, usually ids of the
 *   wrong type, such as `"1"` for `1`): nothing is stored. A row that does
 *   not match the value schema fails with core's `InvalidValue`: nothing is
 *   stored.
 *
 * Two forms: `make` / `makeWith` (Effect: `Option` results, the loaders'
 * own typed errors) and `createRepository` (Promise, over a cache from
 * `createCache`: `undefined` for not found; a loader that throws or rejects
 * fails the call with core's `LoaderFailed`, the thrown value as `cause`).
 *
 * @since 0.1.0
 */
import {
  Cache,
  type CacheClosed,
  type InvalidKey,
  type Keyspace,
  type LoaderFailed,
  type StoreError,
  type StrataCache,
} from "@strata/core"
import { Context, Effect, Exit, Option, Request, RequestResolver, Schema } from "effect"
import * as NotFound from "./internal/notFound.ts"
import { fromPromise, run } from "./internal/promise.ts"
import * as WriteThrough from "./WriteThrough.ts"

/**
 * A `loadMany` result that cannot be used: `"not-a-map"` (it did not return
 * a `Map`), `"unrequested-id"` (a row for an id that was not asked for).
 * Nothing of the batch was stored.
 */
export class InvalidLoaderResult extends Schema.TaggedError<InvalidLoaderResult>()("InvalidLoaderResult", {
  keyspace: Schema.String,
  reason: Schema.Literals(["not-a-map", "unrequested-id"]),
  message: Schema.String,
}) {}

/** A batch loader: the rows of the ids it is given, by id; an id with no row is left out (not found). */
export type LoadMany<K, V, E, R> = (ids: ReadonlyArray<K>) => Effect.Effect<ReadonlyMap<K, V>, E, R>

/**
 * The options of {@link make}. The write-through options (`version`,
 * `views`, `related`) are those `update` uses (see `WriteThrough`).
 */
export interface Options<K, V, E, R> extends WriteThrough.Options<K, V> {
  /** Loads the rows of many ids in one call (one query). Called once per batch of misses. */
  readonly loadMany: LoadMany<K, V, E, R>
  /** Loads one row (`undefined`: not found); used instead of `loadMany` when a batch misses one id. */
  readonly load?: ((id: K) => Effect.Effect<V | undefined, E, R>) | undefined
  /** TTL overrides and loader timeouts for the loads (see core's `LoadOptions`). */
  readonly loadOptions?: Cache.LoadOptions | undefined
  /**
   * Negative caching: remember ids with no row for `ttl`, in a keyspace
   * `<name>.not-found` (so the keyspace name must be at most 54 characters),
   * so asking again for them does not reach the source. `invalidate` and
   * `update` drop an id's marker. Marker reads and writes that fail are
   * reported to `onStoreError` and the read goes on. Off by default.
   */
  readonly notFound?: NotFound.NotFoundOptions | undefined
}

export type { NotFoundOptions } from "./internal/notFound.ts"

/** What a read can fail with: the loader's own errors, the engine's, and {@link InvalidLoaderResult}. */
export type ReadError<E> = Cache.LoadError<E> | InvalidLoaderResult

/** A read-through repository over one keyspace. */
export interface Repository<K, V, E> {
  readonly keyspace: Keyspace.Keyspace<K, V>
  /**
   * The record of `id`, or `None` when the source has none. Calls in the same
   * tick are batched into one `getMany`, so a failing batch fails each of them.
   */
  readonly get: (id: K) => Effect.Effect<Option.Option<V>, ReadError<E>>
  /** The records of `ids`, in their order (`None`: not found); one `loadMany` call for all misses. */
  readonly getMany: (ids: ReadonlyArray<K>) => Effect.Effect<ReadonlyArray<Option.Option<V>>, ReadError<E>>
  /** Drops the cached record of `id` everywhere, so the next read loads it. */
  readonly invalidate: (id: K) => Effect.Effect<void, InvalidKey | StoreError | CacheClosed>
  /**
   * Write-through: runs `write` against the source of truth, then caches the
   * record it returns keeping the newest source version (`version` option;
   * without it the cached record is deleted instead), writes the views and
   * drops the related keys and tags. A failed `write` leaves the cache
   * untouched. See `WriteThrough.write`.
   */
  readonly update: <E2, R2>(
    id: K,
    write: Effect.Effect<V, E2, R2>,
  ) => Effect.Effect<V, E2 | WriteThrough.CacheError, R2>
}

interface Get<K, V, E> extends Request.Request<Option.Option<V>, ReadError<E>> {
  readonly id: K
}

/** The ids of `rows` in the order of `ids` (`undefined`: not found), or why the map cannot be used. */
const rowsInOrder = <K, V>(
  keyspace: Keyspace.Keyspace<K, V>,
  ids: ReadonlyArray<K>,
  rows: unknown,
): Effect.Effect<ReadonlyArray<V | undefined>, InvalidLoaderResult> =>
  Effect.suspend(() => {
    if (!(rows instanceof Map))
      return Effect.fail(
        new InvalidLoaderResult({
          keyspace: keyspace.id,
          reason: "not-a-map",
          message: `loadMany of keyspace "${keyspace.id}" must return a Map from id to row, got ${rows === null ? "null" : typeof rows}; nothing was stored`,
        }),
      )
    const at = new Map<string, number>(ids.map((id, i) => [keyspace.storeKey(id), i]))
    const out = new Array<V | undefined>(ids.length).fill(undefined)
    for (const [id, row] of rows as Map<unknown, V>) {
      let storeKey: string | undefined
      try {
        storeKey = keyspace.storeKey(id as K)
      } catch {
        storeKey = undefined
      }
      const i = storeKey === undefined ? undefined : at.get(storeKey)
      if (i === undefined)
        return Effect.fail(
          new InvalidLoaderResult({
            keyspace: keyspace.id,
            reason: "unrequested-id",
            message: `loadMany of keyspace "${keyspace.id}" returned a row for ${describe(id)}, which was not asked for (asked: ${ids.map(describe).join(", ")}); nothing was stored`,
          }),
        )
      out[i] = row
    }
    return Effect.succeed(out)
  })

const describe = (id: unknown): string => {
  try {
    return typeof id === "string" ? JSON.stringify(id) : (JSON.stringify(id) ?? String(id))
  } catch {
    return String(id)
  }
}

/**
 * Builds a repository from a cache service (for code that holds one, such as
 * the Promise form). The loaders run with `context` provided.
 */
export const makeWith = <K, V, E, R>(
  cache: Cache.Service,
  keyspace: Keyspace.Keyspace<K, V>,
  options: Options<K, V, E, R>,
  context: Context.Context<R>,
): Repository<K, V, E> => {
  const { load, loadMany, loadOptions } = options
  const loadRows = (
    ids: ReadonlyArray<K>,
  ): Effect.Effect<ReadonlyArray<V | undefined>, E | InvalidLoaderResult> =>
    Effect.provideContext(
      ids.length === 1 && load !== undefined
        ? Effect.map(load(ids[0]!), (row) => [row])
        : Effect.flatMap(loadMany(ids), (rows) => rowsInOrder(keyspace, ids, rows)),
      context,
    )
  const markers =
    options.notFound === undefined ? undefined : NotFound.make(cache, keyspace, options.notFound)
  // With negative caching, ids marked "not found" are answered without the source, and new ones are marked.
  const loadMisses =
    markers === undefined
      ? loadRows
      : (ids: ReadonlyArray<K>) =>
          Effect.gen(function* () {
            const marked = yield* markers.marked(ids)
            const asked = ids.filter((_, i) => !marked[i])
            const rows = asked.length === 0 ? [] : yield* loadRows(asked)
            const byAsked = new Map(asked.map((id, i) => [id, rows[i]]))
            const missing = asked.filter((_, i) => rows[i] === undefined)
            if (missing.length > 0) yield* markers.mark(missing)
            return ids.map((id) => byAsked.get(id))
          })
  const getMany = (ids: ReadonlyArray<K>): Effect.Effect<ReadonlyArray<Option.Option<V>>, ReadError<E>> =>
    Array.isArray(ids) && ids.length === 0
      ? Effect.succeed([])
      : cache.getOrSetMany(keyspace, ids, loadMisses, loadOptions)

  const GetRequest = Request.of<Get<K, V, E>>()
  const resolver = RequestResolver.make<Get<K, V, E>>((entries) =>
    Effect.map(getMany(entries.map((entry) => entry.request.id)), (found) => {
      entries.forEach((entry, i) => {
        entry.completeUnsafe(Exit.succeed(found[i]!))
      })
    }),
  )
  const get = (id: K): Effect.Effect<Option.Option<V>, ReadError<E>> =>
    // A bad id fails its own caller before it joins a batch, so it cannot fail the others.
    Effect.flatMap(
      Effect.try({ try: () => keyspace.storeKey(id), catch: (error) => error as InvalidKey }),
      () => Effect.request(GetRequest({ id }), resolver),
    )
  return {
    keyspace,
    get,
    getMany,
    invalidate: (id) =>
      markers === undefined
        ? cache.delete(keyspace, id)
        : Effect.andThen(cache.delete(keyspace, id), markers.unmark(id)),
    update: (id, write) =>
      markers === undefined
        ? WriteThrough.write(cache, keyspace, id, write, options)
        : Effect.tap(WriteThrough.write(cache, keyspace, id, write, options), () => markers.unmark(id)),
  }
}

/**
 * A read-through repository over `keyspace`, using the `Cache` service and
 * loading through `options.loadMany` (and `options.load` for a single miss).
 *
 * @example
 * ```ts
 * const users = yield* Repository.make(Users, {
 *   loadMany: (ids) => Effect.map(db.findUsers(ids), (rows) => new Map(rows.map((u) => [u.id, u]))),
 * })
 * const [a, b] = yield* users.getMany([1, 2]) // Option<User> each; one query for the misses
 * ```
 */
export const make = <K, V, E, R>(
  keyspace: Keyspace.Keyspace<K, V>,
  options: Options<K, V, E, R>,
): Effect.Effect<Repository<K, V, E>, never, Cache.Cache | R> =>
  Effect.gen(function* () {
    const cache = yield* Cache.Cache
    const context = yield* Effect.context<R>()
    return makeWith(cache, keyspace, options, context)
  })

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
  /** Negative caching (see `Options.notFound`). Off by default. */
  readonly notFound?: NotFound.NotFoundOptions | undefined
}

/** A read-through repository with a Promise API. */
export interface RepositoryClient<K, V> {
  readonly keyspace: Keyspace.Keyspace<K, V>
  /** The Effect form of this repository (its loaders' failures are `LoaderFailed`). */
  readonly repository: Repository<K, V, LoaderFailed>
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
 * cache is open: after `cache.close()` its calls reject with `CacheClosed`.
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
  const repository = makeWith(
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
