/**
 * Search-result caching: the results of a query with filters, cached by a
 * typed key of `{ query, filters, page }`, normalised first so that the
 * same search typed differently (`"  Green  TEA"` and `"green tea"`,
 * brands `["b", "a"]` and `["a", "b"]`) is one key, with a short TTL and
 * tags so a catalog change drops every cached search at once.
 *
 * The key is encoded by core's key encoding, which is canonical (struct
 * fields sorted, strings NFC-normalised, reserved characters escaped) and
 * hashes storage keys over 256 characters (SHA-256, readable prefix kept),
 * so long queries and many filters need nothing more here.
 *
 * @since 0.1.0
 */
import type { Cache, InvalidArgument, Keyspace as KeyspaceType, StoreError, StrataCache } from "@strata/core"
import { Cache as CacheService, InvalidKey, Keyspace } from "@strata/core"
import type { Duration } from "effect"
import { Effect, Schema } from "effect"
import { fromPromise, run } from "./internal/promise.ts"
import type { QueryError } from "./QueryCache.ts"

/** A search: the query text, the filters (typed by the filter schema) and the page (≥ 0). */
export interface Params<F> {
  readonly query: string
  readonly filters: F
  readonly page: number
}

/** How searches are normalised before they become keys. */
export interface Normalise<F> {
  /** The query's case: `"lower"` (default) or `"preserve"`. */
  readonly case?: "lower" | "preserve" | undefined
  /** The query's whitespace: `"collapse"` (default: trimmed, runs of spaces as one) or `"preserve"`. */
  readonly whitespace?: "collapse" | "preserve" | undefined
  /** Array filters whose order does not matter: sorted and deduplicated. */
  readonly unordered?: ReadonlyArray<keyof F> | undefined
  /** A last step of your own, applied after the ones above (must be idempotent). */
  readonly custom?: ((params: Params<F>) => Params<F>) | undefined
}

/** The options of {@link define}. */
export interface Options<FS extends Schema.Top, VS extends Schema.Top> {
  /** The keyspace name (see `Keyspace.make`). */
  readonly name: string
  /** The schema of the filters; part of the key. */
  readonly filters: FS
  /** The schema of one page of results. */
  readonly value: VS
  /** How long a result is fresh; keep it short (seconds to minutes). */
  readonly ttl: Duration.Input
  /**
   * Tags of a search, from its normalised params. Every search also carries
   * `search:<name>` (what `invalidateAll` drops).
   */
  readonly tags?: ((params: Params<FS["Type"]>) => ReadonlyArray<string>) | undefined
  readonly normalise?: Normalise<FS["Type"]> | undefined
  /** Format version of the keyspace (see `Keyspace.make`). */
  readonly version?: number | undefined
}

/** A declared search: its keyspace and its normalisation. */
export interface Definition<F, V> {
  readonly keyspace: KeyspaceType.Keyspace<Params<F>, V>
  /** The tag every search of this definition carries. */
  readonly tag: string
  /** The normalised form of `params`: what the key is made of. */
  readonly normalise: (params: Params<F>) => Params<F>
}

const sortedUnique = (values: ReadonlyArray<unknown>) =>
  [...new Set(values)].sort((a, b) => {
    const x = JSON.stringify(a)
    const y = JSON.stringify(b)
    return x < y ? -1 : x > y ? 1 : 0
  })

/**
 * Declares a search: builds its keyspace (key `{ query, filters, page }`).
 * Throws `InvalidKeyspace` for a bad name or TTL, when the module loads.
 *
 * @example
 * ```ts
 * const ProductSearch = Search.define({
 *   name: "shop.search",
 *   filters: Schema.Struct({ brands: Schema.Array(Schema.String), maxPrice: Schema.optional(Schema.Int) }),
 *   value: Schema.Array(Schema.Int),
 *   ttl: "30 seconds",
 *   tags: () => ["catalog"],
 *   normalise: { unordered: ["brands"] },
 * })
 * ```
 */
export const define = <FS extends Schema.Top & Keyspace.AnySchema, VS extends Keyspace.AnySchema>(
  options: Options<FS, VS>,
): Definition<FS["Type"], VS["Type"]> => {
  type F = FS["Type"]
  const tag = `search:${options.name}`
  const {
    case: letterCase = "lower",
    whitespace = "collapse",
    unordered = [],
    custom,
  } = options.normalise ?? {}
  const normalise = (params: Params<F>): Params<F> => {
    let query = params.query
    if (typeof query === "string") {
      if (whitespace === "collapse") query = query.trim().replace(/\s+/gu, " ")
      if (letterCase === "lower") query = query.toLowerCase()
    }
    let filters = params.filters
    if (unordered.length > 0 && typeof filters === "object" && filters !== null) {
      const copy: Record<string, unknown> = { ...(filters as Record<string, unknown>) }
      for (const field of unordered) {
        const value = copy[field as string]
        if (Array.isArray(value)) copy[field as string] = sortedUnique(value)
      }
      filters = copy as F
    }
    const normalised = { query, filters, page: params.page }
    return custom === undefined ? normalised : custom(normalised)
  }
  const userTags = options.tags
  const keyspace = Keyspace.make({
    name: options.name,
    key: Schema.Struct({
      query: Schema.String,
      filters: options.filters,
      page: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
    }),
    value: options.value,
    ttl: options.ttl,
    tags: (params) => (userTags === undefined ? [tag] : [tag, ...userTags(params as Params<F>)]),
    version: options.version,
  }) as unknown as KeyspaceType.Keyspace<Params<F>, VS["Type"]>
  return { keyspace, tag, normalise }
}

/** A cached search. */
export interface SearchCache<F, V, E> {
  readonly definition: Definition<F, V>
  /** The results for `params` (normalised first): cached, or run once for all concurrent callers. */
  readonly get: (params: Params<F>, options?: Cache.LoadOptions) => Effect.Effect<V, QueryError<E>>
  /** Drops every cached search of this definition, in every process. */
  readonly invalidateAll: () => Effect.Effect<void, InvalidArgument | StoreError>
  /** Drops the cached results of `params` (normalised first). */
  readonly invalidate: (params: Params<F>) => Effect.Effect<void, InvalidKey | StoreError>
}

/** A cached search over a cache service; `search` receives the normalised params. A search that cannot be normalised (a throwing `custom`, params that are not an object) is `InvalidKey`. */
export const makeWith = <F, V, E>(
  cache: Cache.Service,
  definition: Definition<F, V>,
  search: (params: Params<F>) => Effect.Effect<V, E>,
): SearchCache<F, V, E> => {
  const normalised = (params: Params<F>) =>
    Effect.try({
      try: () => definition.normalise(params),
      catch: (error) =>
        new InvalidKey({
          keyspace: definition.keyspace.id,
          message: `the search could not be normalised: ${error instanceof Error ? error.message : String(error)}`,
        }),
    })
  return {
    definition,
    get: (params, options) =>
      Effect.flatMap(normalised(params), (key) => cache.getOrSet(definition.keyspace, key, search, options)),
    invalidateAll: () => cache.invalidateTag(definition.tag),
    invalidate: (params) =>
      Effect.flatMap(normalised(params), (key) => cache.delete(definition.keyspace, key)),
  }
}

/**
 * A cached search over the `Cache` service.
 *
 * @example
 * ```ts
 * const search = yield* Search.make(ProductSearch, (params) => catalog.search(params))
 * const ids = yield* search.get({ query: " Green TEA ", filters: { brands: ["b", "a"] }, page: 0 })
 * ```
 */
export const make = <F, V, E, R>(
  definition: Definition<F, V>,
  search: (params: Params<F>) => Effect.Effect<V, E, R>,
): Effect.Effect<SearchCache<F, V, E>, never, CacheService.Cache | R> =>
  Effect.gen(function* () {
    const cache = yield* CacheService.Cache
    const context = yield* Effect.context<R>()
    return makeWith(cache, definition, (params) => Effect.provideContext(search(params), context))
  })

/** A cached search with a Promise API. */
export interface SearchClient<F, V> {
  readonly definition: Definition<F, V>
  /** The results for `params` (normalised first); a search that throws rejects with `LoaderFailed`. */
  get(params: Params<F>, options?: Cache.LoadOptions): Promise<V>
  /** Drops every cached search of this definition, in every process. */
  invalidateAll(): Promise<void>
  /** Drops the cached results of `params` (normalised first). */
  invalidate(params: Params<F>): Promise<void>
}

/**
 * The Promise form of {@link make}, over a cache from `createCache`.
 *
 * @example
 * ```ts
 * const search = createSearch(cache, ProductSearch, (params) => catalog.search(params))
 * const ids = await search.get({ query: "green tea", filters: { brands: ["a"] }, page: 0 })
 * ```
 */
export const createSearch = <F, V>(
  cache: StrataCache,
  definition: Definition<F, V>,
  search: (params: Params<F>) => V | PromiseLike<V>,
): SearchClient<F, V> => {
  const effect = makeWith(cache.service, definition, fromPromise(definition.keyspace.id, search))
  return {
    definition,
    get: (params, options) => run(effect.get(params, options)),
    invalidateAll: () => run(effect.invalidateAll()),
    invalidate: (params) => run(effect.invalidate(params)),
  }
}
