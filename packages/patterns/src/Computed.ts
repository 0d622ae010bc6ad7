/**
 * Computed values: work derived from an object, done once.
 *
 * - **Per instance** (`memo`, `@lazy`): the value is kept on the instance's
 *   side (a `WeakMap`, so it goes away with the instance) and computed on
 *   first use: Python's `cached_property`. Nothing is shared between
 *   instances or processes; a rejected Promise is not kept (the next use
 *   computes again). `forget` drops it.
 * - **Across instances and processes** (`cachedFunction`, `@cached`,
 *   `cachedEffect`): the value is cached in a keyspace under a key built from
 *   the instance's identity and the method's arguments (`key(self, ...args)`,
 *   checked by the keyspace's key schema), so two objects for the same
 *   record share it, in every process. Put the instance's version in the key
 *   (an `updatedAt`, a revision) and a changed record gets a new entry;
 *   give the keyspace tags and `invalidateTag` drops the entries of a record.
 *
 * The decorators are TC39 standard decorators (TypeScript 5+ without
 * `experimentalDecorators`); each has a plain function form for code that
 * does not use decorators.
 *
 * @since 0.1.0
 */
import type { Cache, Keyspace, KeyspaceClient, StrataCache } from "@strata/core"
import { Cache as CacheService } from "@strata/core"
import { Effect } from "effect"

/** A per-instance memo of `compute`, with `forget(self)` to drop an instance's value. */
export interface Memo<This extends object, V> {
  (self: This): V
  /** Drops the value of `self`: the next call computes again. */
  readonly forget: (self: This) => void
}

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  typeof u === "object" && u !== null && typeof (u as { then?: unknown }).then === "function"

/**
 * A per-instance lazy memo: `compute(self)` runs on the first call for each
 * instance, later calls return its value. A Promise that rejects is dropped
 * when it rejects, so a failure is not kept.
 *
 * @example
 * ```ts
 * const totalOf = Computed.memo((order: Order) => order.lines.reduce((sum, l) => sum + l.cents, 0))
 * totalOf(order) // computed; totalOf(order) again: remembered
 * ```
 */
export const memo = <This extends object, V>(compute: (self: This) => V): Memo<This, V> => {
  const values = new WeakMap<This, V>()
  const get = (self: This): V => {
    if (values.has(self)) return values.get(self) as V
    const value = compute(self)
    values.set(self, value)
    if (isThenable(value))
      value.then(undefined, () => {
        if (values.get(self) === value) values.delete(self)
      })
    return value
  }
  return Object.assign(get, { forget: (self: This) => void values.delete(self) })
}

/** The values of `@lazy` getters, by instance and getter name. */
const lazyValues = new WeakMap<object, Map<string | symbol, unknown>>()

/**
 * Decorates a getter so that it runs once per instance (`cached_property`).
 * A Promise that rejects is dropped when it rejects. Drop a value with
 * {@link forget}.
 *
 * @example
 * ```ts
 * class Order {
 *   constructor(readonly lines: ReadonlyArray<{ cents: number }>) {}
 *   @Computed.lazy get total() { return this.lines.reduce((sum, l) => sum + l.cents, 0) }
 * }
 * ```
 */
export const lazy = <This extends object, V>(
  getter: (this: This) => V,
  context: ClassGetterDecoratorContext<This, V>,
): ((this: This) => V) => {
  const name = context.name
  return function (this: This) {
    let values = lazyValues.get(this)
    if (values === undefined) {
      values = new Map()
      lazyValues.set(this, values)
    }
    if (values.has(name)) return values.get(name) as V
    const value = getter.call(this)
    values.set(name, value)
    if (isThenable(value))
      value.then(undefined, () => {
        if (values.get(name) === value) values.delete(name)
      })
    return value
  }
}

/** Drops the `@lazy` value `name` of `instance` (every `@lazy` value of it when `name` is omitted). */
export const forget = (instance: object, name?: string | symbol): void => {
  if (name === undefined) lazyValues.delete(instance)
  else lazyValues.get(instance)?.delete(name)
}

/** The options of {@link cachedFunction} and {@link cached}. */
export interface CachedOptions<This, Args extends ReadonlyArray<unknown>, K, V> {
  /** Where values are cached: the cache, or a function of the instance returning it. */
  readonly cache: StrataCache | ((self: This) => StrataCache)
  /** The keyspace of the values: its key schema checks every key, its tags invalidate them. */
  readonly keyspace: Keyspace.Keyspace<K, V>
  /** The key of a call: the instance's identity (and version) and the arguments that matter. */
  readonly key: (self: This, ...args: Args) => K
  /** TTL overrides and loader timeouts. */
  readonly loadOptions?: Cache.LoadOptions | undefined
}

const clientsOf = <K, V>(keyspace: Keyspace.Keyspace<K, V>) => {
  const clients = new WeakMap<StrataCache, KeyspaceClient<K, V>>()
  return (cache: StrataCache) => {
    let client = clients.get(cache)
    if (client === undefined) {
      client = cache.keyspace(keyspace)
      clients.set(cache, client)
    }
    return client
  }
}

/**
 * A function of an instance and arguments whose results are cached across
 * instances and processes: `fn(self, ...args)` runs once per key (for all
 * concurrent callers), then the cached value is returned. A call that
 * throws rejects with core's `LoaderFailed` and is not cached; a key that
 * fails the key schema rejects with `InvalidKey`.
 *
 * @example
 * ```ts
 * const ratingOf = Computed.cachedFunction(
 *   { cache, keyspace: Ratings, key: (p: Product) => ({ productId: p.id, version: p.version }) },
 *   (p: Product) => reviews.averageRating(p.id),
 * )
 * await ratingOf(product)
 * ```
 */
export const cachedFunction = <This, Args extends ReadonlyArray<unknown>, K, V>(
  options: CachedOptions<This, Args, K, V>,
  fn: (self: This, ...args: Args) => V | PromiseLike<V>,
): ((self: This, ...args: Args) => Promise<V>) => {
  const { cache, keyspace, key, loadOptions } = options
  const client = clientsOf(keyspace)
  return (self, ...args) => {
    let k: K
    let target: KeyspaceClient<K, V>
    try {
      target = client(typeof cache === "function" ? cache(self) : cache)
      k = key(self, ...args)
    } catch (error) {
      return Promise.reject(error)
    }
    return target.getOrSet(k, async () => fn(self, ...args), loadOptions)
  }
}

/**
 * Decorates an async method so that its results are cached across instances
 * and processes, keyed by `key(this, ...args)` (see {@link cachedFunction}).
 *
 * @example
 * ```ts
 * class ProductView {
 *   constructor(readonly product: Product) {}
 *   @Computed.cached({ cache, keyspace: Ratings, key: (self: ProductView) => ({ productId: self.product.id, version: self.product.version }) })
 *   async rating(): Promise<number> { return reviews.averageRating(this.product.id) }
 * }
 * ```
 */
export const cached =
  <This, Args extends ReadonlyArray<unknown>, K, V>(options: CachedOptions<This, Args, K, V>) =>
  (
    method: (this: This, ...args: Args) => Promise<V>,
    _context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Promise<V>>,
  ): ((this: This, ...args: Args) => Promise<V>) => {
    const call = cachedFunction<This, Args, K, V>(options, (self, ...args) => method.call(self, ...args))
    return function (this: This, ...args: Args) {
      return call(this, ...args)
    }
  }

/**
 * The Effect form of {@link cachedFunction}: `fn(self, ...args)` is an effect,
 * cached through the `Cache` service under `key(self, ...args)`, keeping its
 * typed errors (not cached when it fails).
 *
 * @example
 * ```ts
 * const ratingOf = Computed.cachedEffect(Ratings, (p: Product) => ({ productId: p.id, version: p.version }), (p) =>
 *   reviews.averageRating(p.id),
 * )
 * const rating = yield* ratingOf(product)
 * ```
 */
export const cachedEffect =
  <This, Args extends ReadonlyArray<unknown>, K, V, E, R>(
    keyspace: Keyspace.Keyspace<K, V>,
    key: (self: This, ...args: Args) => K,
    fn: (self: This, ...args: Args) => Effect.Effect<V, E, R>,
    loadOptions?: Cache.LoadOptions,
  ) =>
  (self: This, ...args: Args) =>
    Effect.gen(function* () {
      const cache = yield* CacheService.Cache
      return yield* cache.getOrSet(keyspace, key(self, ...args), fn(self, ...args), loadOptions)
    })
