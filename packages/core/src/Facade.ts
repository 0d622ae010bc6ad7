/**
 * The Promise facade: Strata for code that does not use Effect. `createCache`
 * returns an object whose methods return Promises and throw Strata's tagged
 * errors (`InvalidKey`, `InvalidValue`, `EntryTooLarge`, `StoreUnavailable`,
 * `Timeout`, `LoaderFailed`, ...), all `Error` subclasses with a `_tag`.
 *
 * An L1 hit does not run an effect: `get` and `getOrSet` first read L1
 * synchronously and return an already-resolved Promise.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Exit, type Layer, ManagedRuntime, Metric, Option } from "effect"
import type { Bus } from "./Bus.ts"
import * as Cache from "./Cache.ts"
import type { CacheEvent } from "./CacheEvent.ts"
import { LoaderFailed } from "./Errors.ts"
import type { Counter, Keyspace } from "./Keyspace.ts"
import type { Store } from "./Store.ts"

/** The options of {@link createCache}. */
export interface CreateCacheOptions extends Cache.Options {
  /** A layer providing the shared tier, such as `MemoryStore.layer()` or `RedisStore.layer(...)`. */
  readonly l2?: Layer.Layer<Store, unknown> | undefined
  /** A layer providing the bus, such as `RedisBus.layer(...)`. */
  readonly bus?: Layer.Layer<Bus, unknown> | undefined
}

/** Per-call options of `set`: `ttl` and `staleFor` overrides. */
export type WriteOptions = Cache.WriteOptions

/** Per-call options of `getOrSet`: TTL overrides and loader timeouts. */
export type LoadOptions = Cache.LoadOptions

/** The operations on one keyspace. */
export interface KeyspaceClient<K, V> {
  /** The fresh value, or `undefined` on a miss. */
  get(key: K): Promise<V | undefined>
  /** The fresh value; on a miss, calls `loader` once for all concurrent callers and stores its result. */
  getOrSet(key: K, loader: (key: K) => V | Promise<V>, options?: LoadOptions): Promise<V>
  set(key: K, value: V, options?: WriteOptions): Promise<void>
  delete(key: K): Promise<void>
  getMany(keys: ReadonlyArray<K>): Promise<Array<V | undefined>>
  setMany(entries: ReadonlyArray<readonly [K, V]>, options?: WriteOptions): Promise<void>
  /** Removes every entry of the keyspace. */
  clear(): Promise<void>
  /** Synchronous L1-only read; `undefined` on a miss. Throws `InvalidKey`. */
  peek(key: K): V | undefined
}

/** The operations on a counter keyspace. */
export interface CounterClient<K> extends KeyspaceClient<K, number> {
  /** Adds `by` (default 1) atomically and returns the new count. */
  increment(key: K, by?: number): Promise<number>
}

/** A cache with a Promise API. */
export interface StrataCache {
  /** The typed operations on `keyspace`. Keep the returned client; it is cheap but not free to make. */
  keyspace<K>(keyspace: Counter<K>): CounterClient<K>
  keyspace<K, V>(keyspace: Keyspace<K, V>): KeyspaceClient<K, V>
  invalidateTag(tag: string): Promise<void>
  stats(): Cache.Stats
  /** Registers an event listener; returns the function that removes it. */
  on(listener: (event: CacheEvent) => void): () => void
  /** The Effect metrics of this process (`strata_cache_*` and any others), pushed up to date first. */
  metrics(): Promise<ReadonlyArray<Metric.Metric.Snapshot>>
  /** Stops the cache and releases its tiers. */
  close(): Promise<void>
  /** The underlying Effect service, for code that mixes both styles. */
  readonly service: Cache.Service
}

/**
 * Creates a cache with a Promise API.
 *
 * @example
 * ```ts
 * import { createCache } from "@strata/core"
 *
 * const cache = await createCache()
 * const profiles = cache.keyspace(Profiles)
 * const profile = await profiles.getOrSet({ userId: 42 }, ({ userId }) => db.loadProfile(userId))
 * await cache.close()
 * ```
 */
export const createCache = async (options: CreateCacheOptions = {}): Promise<StrataCache> => {
  const runtime = ManagedRuntime.make(Cache.layer(options))
  const service = await runtime.runPromise(
    Effect.gen(function* () {
      return yield* Cache.Cache
    }),
  )

  const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
    runtime.runPromiseExit(effect).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw Cause.squash(exit.cause)
    })

  const clientOf = <K, V>(keyspace: Keyspace<K, V>): KeyspaceClient<K, V> => {
    const loaderOf = (loader: (key: K) => V | Promise<V>) => (key: K) =>
      Effect.tryPromise({
        try: async () => loader(key),
        catch: (cause) => new LoaderFailed({ keyspace: keyspace.id, cause }),
      })
    const client: KeyspaceClient<K, V> = {
      get(key) {
        let hit: V | undefined
        try {
          hit = service.peekUnsafe(keyspace, key)
        } catch (error) {
          return Promise.reject(error)
        }
        if (hit !== undefined) return Promise.resolve(hit)
        return run(service.get(keyspace, key)).then(Option.getOrUndefined)
      },
      getOrSet(key, loader, options) {
        let hit: V | undefined
        try {
          hit = service.peekUnsafe(keyspace, key)
        } catch (error) {
          return Promise.reject(error)
        }
        if (hit !== undefined) return Promise.resolve(hit)
        return run(service.getOrSet(keyspace, key, loaderOf(loader), options))
      },
      set: (key, value, options) => run(service.set(keyspace, key, value, options)),
      delete: (key) => run(service.delete(keyspace, key)),
      getMany: (keys) =>
        run(service.getMany(keyspace, keys)).then((found) => found.map(Option.getOrUndefined)),
      setMany: (entries, options) => run(service.setMany(keyspace, entries, options)),
      clear: () => run(service.clear(keyspace)),
      peek: (key) => service.peekUnsafe(keyspace, key),
    }
    if (keyspace.kind !== "counter") return client
    const counter: CounterClient<K> = {
      ...(client as unknown as KeyspaceClient<K, number>),
      increment: (key, by) => run(service.increment(keyspace as unknown as Counter<K>, key, by)),
    }
    return counter as unknown as KeyspaceClient<K, V>
  }

  return {
    keyspace: clientOf as StrataCache["keyspace"],
    invalidateTag: (tag) => run(service.invalidateTag(tag)),
    stats: service.stats,
    on: service.onEvent,
    metrics: () => {
      service.stats()
      return runtime.runPromise(Metric.snapshot)
    },
    close: () => runtime.dispose(),
    service,
  }
}
