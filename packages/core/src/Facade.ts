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
import { AsyncLocalStorage } from "node:async_hooks"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Metric, Option } from "effect"
import type { Bus } from "./Bus.ts"
import * as Cache from "./Cache.ts"
import type { CacheEvent } from "./CacheEvent.ts"
import { CacheClosed, InvalidArgument, LoaderCycle, LoaderFailed } from "./Errors.ts"
import { eventLogger, loggerLayer, type OtlpOptions, type PinoLike } from "./FacadeObservability.ts"
import { CurrentFlight, type Flight } from "./internal/engine/flights.ts"
import { type Counter, isKeyspace, type Keyspace } from "./Keyspace.ts"
import type { Store } from "./Store.ts"

/** The options of {@link createCache}. */
export interface CreateCacheOptions extends Cache.Options {
  /** A layer providing the shared tier, such as `MemoryStore.layer()` or `RedisStore.layer(...)`. */
  readonly l2?: Layer.Layer<Store, unknown> | undefined
  /** A layer providing the bus, such as `RedisBus.layer(...)`. */
  readonly bus?: Layer.Layer<Bus, unknown> | undefined
  /**
   * How a Promise loader that calls the cache again is recognised, for
   * `LoaderCycle`: `"sync"` (default) sees calls made before the loader's
   * first `await`; `"async-context"` sees calls after awaits too, through
   * AsyncLocalStorage, which on Node 20 makes every `await` in the process
   * about 2.5 times slower. The Effect API sees every call either way.
   */
  readonly loaderCycles?: "sync" | "async-context" | undefined
  /**
   * A pino-compatible logger (`warn` and `error` required, `info` and
   * `debug` optional): it receives the cache's log lines and every event
   * (warnings for what the cache recovered from, info for stale values
   * served and a circuit closing again), each as `(object, message)`.
   */
  readonly logger?: PinoLike | undefined
  /**
   * Exports the cache's spans (`strata.l2.<operation>`, `strata.loader`)
   * over OTLP/HTTP to `url`, through Effect's OTLP tracer. Each facade call's
   * spans are a trace of their own.
   */
  readonly otlp?: OtlpOptions | undefined
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
  /**
   * Replaces the value with `f(current)` atomically (no concurrent update is
   * lost); `f` must be pure, it may run more than once. Returns the value now
   * stored. Rejects with `UpdateConflict` after repeated conflicts.
   */
  update(key: K, f: (current: V | undefined) => V, options?: WriteOptions): Promise<V>
  delete(key: K): Promise<void>
  getMany(keys: ReadonlyArray<K>): Promise<Array<V | undefined>>
  /**
   * The fresh values of many keys, in order; the misses are loaded with one
   * `loadMany` call (rows in the order of the keys it is given, `undefined`
   * for a key with no row: answered as `undefined`, not cached).
   */
  getOrSetMany(
    keys: ReadonlyArray<K>,
    loadMany: (
      keys: ReadonlyArray<K>,
    ) => ReadonlyArray<V | undefined> | Promise<ReadonlyArray<V | undefined>>,
    options?: LoadOptions,
  ): Promise<Array<V | undefined>>
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
  /** The counters and state of the cache. Throws `CacheClosed` after `close()`. */
  stats(): Cache.Stats
  /** Registers an event listener; returns the function that removes it. Throws `CacheClosed` after `close()`. */
  on(listener: (event: CacheEvent) => void): () => void
  /** The Effect metrics of this process (`strata_cache_*` and any others), pushed up to date first. */
  metrics(): Promise<ReadonlyArray<Metric.Metric.Snapshot>>
  /**
   * Stops the cache and releases its tiers (connections, timers). Calls made
   * after, and calls still in flight, reject with `CacheClosed`. Closing
   * twice is harmless.
   */
  close(): Promise<void>
  /** `close()`, for `await using cache = await createCache(...)`. */
  [Symbol.asyncDispose](): Promise<void>
  /** The underlying Effect service, for code that mixes both styles. */
  readonly service: Cache.Service
}

const closedError = () =>
  new CacheClosed({ message: "the cache was closed; create a new one to go on reading and writing" })

/**
 * Which flight's Promise loader is running, so that a loader calling the
 * facade again for a key whose load waits on it gets `LoaderCycle` instead of
 * waiting for ever (Effect's fiber context does not cross into a Promise).
 *
 * By default only the loader's synchronous part is seen: the flight is set
 * while the loader function runs up to its first `await`, which is when
 * `async () => ({ html: (await cache.getOrSet(...)).html })` makes its call.
 * With `loaderCycles: "async-context"`, Node's AsyncLocalStorage carries the
 * flight across awaits too; on Node 20 that makes every `await` in the
 * process about 2.5 times slower once it is used (measured), so it is not the
 * default.
 */
let syncFlight: Flight | undefined
const asyncFlight = new AsyncLocalStorage<Flight>()

/** Runs an effect from the facade, inside the loader's flight when called from a loader. */
const inFlight = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  useAsyncContext: boolean,
): Effect.Effect<A, E, R> => {
  const flight = syncFlight ?? (useAsyncContext ? asyncFlight.getStore() : undefined)
  return flight === undefined ? effect : Effect.provideService(effect, CurrentFlight, flight)
}

/** Calls a Promise loader as the loader of `flight`. */
const callAs = <A, B>(
  flight: Flight,
  loader: (input: A) => B | Promise<B>,
  input: A,
  useAsyncContext: boolean,
) => {
  if (useAsyncContext) return asyncFlight.run(flight, async () => loader(input))
  const previous = syncFlight
  syncFlight = flight
  try {
    return Promise.resolve(loader(input))
  } finally {
    syncFlight = previous
  }
}

/**
 * Creates a cache with a Promise API. Rejects with `InvalidArgument` or
 * `InvalidDuration` for a bad option, and with the tier's error when a tier
 * cannot start (`StoreUnavailable`, `BusUnavailable`).
 *
 * Close it with `close()` (or `await using`): that releases its connections
 * and timers; calls made after, and calls still in flight, reject with
 * `CacheClosed`. A cache with only an L1 holds nothing that keeps the
 * process alive, so forgetting to close it is harmless.
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
  if (typeof options !== "object" || options === null)
    throw new InvalidArgument({ argument: "options", message: "createCache takes an options object" })
  let copied: CreateCacheOptions
  try {
    copied = { ...options }
    if (
      copied.loaderCycles !== undefined &&
      copied.loaderCycles !== "sync" &&
      copied.loaderCycles !== "async-context"
    )
      throw new InvalidArgument({
        argument: "loaderCycles",
        message: `loaderCycles must be "sync" or "async-context", got ${String(copied.loaderCycles)}`,
      })
    const { logger, otlp } = copied
    if (
      logger !== undefined &&
      (typeof logger !== "object" ||
        logger === null ||
        typeof logger.warn !== "function" ||
        typeof logger.error !== "function")
    )
      throw new InvalidArgument({
        argument: "logger",
        message: "logger must be an object with warn and error methods (pino's shape)",
      })
    if (otlp !== undefined && (typeof otlp !== "object" || otlp === null || typeof otlp.url !== "string"))
      throw new InvalidArgument({ argument: "otlp", message: "otlp must be an object with a url string" })
  } catch (error) {
    if (error instanceof InvalidArgument) throw error
    throw new InvalidArgument({
      argument: "options",
      message: `the options could not be read: ${String(error)}`,
    })
  }
  // The logger and the tracer are there when the cache is built (it captures them) and for every call.
  const observability = Layer.mergeAll(
    copied.logger === undefined ? Layer.empty : loggerLayer(copied.logger),
    copied.otlp === undefined ? Layer.empty : (await import("./internal/otlp.ts")).otlpLayer(copied.otlp),
  )
  const runtime = ManagedRuntime.make(Cache.layer(copied).pipe(Layer.provideMerge(observability)))
  const built = await runtime.runPromiseExit(
    Effect.gen(function* () {
      return yield* Cache.Cache
    }),
  )
  if (Exit.isFailure(built)) {
    await runtime.dispose()
    throw Cause.squash(built.cause)
  }
  const service = built.value
  if (copied.logger !== undefined) service.onEvent(eventLogger(copied.logger))
  const asyncCycles = copied.loaderCycles === "async-context"
  let closed = false
  // Calls run straight against the built services: the managed runtime would also register every call's
  // fiber with its scope, which costs an L2 hit measurable time. Closing still ends what is in flight: the
  // cache's scope interrupts its loads and closes its connections, and whatever ends after `close` is
  // reported as `CacheClosed` below.
  const runExit = Effect.runPromiseExitWith(await runtime.context())

  const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
    if (closed) return Promise.reject(closedError())
    return runExit(inFlight(effect, asyncCycles)).then((exit) => {
      // Whatever ends after `close()` ran is reported as closed, success or not: the cache is gone.
      if (closed || (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause))) throw closedError()
      if (Exit.isSuccess(exit)) return exit.value
      throw Cause.squash(exit.cause)
    })
  }
  /** A call's Promise as `run` reports it: whatever ends after `close()` ran is `CacheClosed`. */
  const settled = <A>(promise: Promise<A>): Promise<A> =>
    promise.then(
      (value) => {
        if (closed) throw closedError()
        return value
      },
      (error: unknown) => {
        throw closed ? closedError() : error
      },
    )
  const clientOf = <K, V>(keyspace: Keyspace<K, V>): KeyspaceClient<K, V> => {
    if (!isKeyspace(keyspace))
      throw new InvalidArgument({
        argument: "keyspace",
        message: "cache.keyspace takes a keyspace from Keyspace.make",
      })
    /** A Promise loader (of a key, or of many) as an effect, inside its flight's async context. */
    const loaderOf =
      <A, B>(loader: (input: A) => B | Promise<B>) =>
      (input: A) =>
        Effect.gen(function* () {
          const flight = yield* CurrentFlight
          return yield* Effect.tryPromise({
            try: () =>
              flight === undefined
                ? Promise.resolve(loader(input))
                : callAs(flight, loader, input, asyncCycles),
            // A cycle found further down is the caller's error too: it passes through unwrapped.
            catch: (cause) =>
              cause instanceof LoaderCycle ? cause : new LoaderFailed({ keyspace: keyspace.id, cause }),
          })
        })
    const peek = (key: K) => {
      if (closed) throw closedError()
      return service.peekUnsafe(keyspace, key)
    }
    const client: KeyspaceClient<K, V> = {
      get(key) {
        // The L1 hit, or the L2 read on Promises, with the key encoded once (see getUnsafe).
        let found: V | Promise<V | undefined> | undefined
        try {
          if (closed) throw closedError()
          found = service.getUnsafe(keyspace, key)
        } catch (error) {
          return Promise.reject(error)
        }
        if (found instanceof Promise) return settled(found)
        if (found !== undefined) return Promise.resolve(found)
        return run(service.get(keyspace, key)).then(Option.getOrUndefined)
      },
      getOrSet(key, loader, options) {
        if (typeof loader !== "function")
          return Promise.reject(
            new InvalidArgument({ argument: "loader", message: "getOrSet takes a loader function" }),
          )
        // With early refresh, a hit may start a reload: it goes through the engine's read path.
        let hit: V | undefined
        try {
          hit = keyspace.earlyRefresh === 0 ? peek(key) : undefined
        } catch (error) {
          return Promise.reject(error)
        }
        if (hit !== undefined) return Promise.resolve(hit)
        return run(service.getOrSet(keyspace, key, loaderOf(loader), options))
      },
      set: (key, value, options) => {
        if (closed) return Promise.reject(closedError())
        // Without an Effect run where the engine allows it (see setPromiseUnsafe).
        const direct = service.setPromiseUnsafe(keyspace, key, value, options)
        return direct === undefined ? run(service.set(keyspace, key, value, options)) : settled(direct)
      },
      update: (key, f, options) => run(service.update(keyspace, key, f, options)),
      delete: (key) => run(service.delete(keyspace, key)),
      getOrSetMany(keys, loadMany, options) {
        if (typeof loadMany !== "function")
          return Promise.reject(
            new InvalidArgument({ argument: "loadMany", message: "getOrSetMany takes a loadMany function" }),
          )
        const effect = service.getOrSetMany(keyspace, keys, loaderOf(loadMany), options)
        return run(effect).then((found) => found.map(Option.getOrUndefined))
      },
      getMany: (keys) =>
        run(service.getMany(keyspace, keys)).then((found) => found.map(Option.getOrUndefined)),
      setMany: (entries, options) => run(service.setMany(keyspace, entries, options)),
      clear: () => run(service.clear(keyspace)),
      peek,
    }
    if (keyspace.kind !== "counter") return client
    const counter: CounterClient<K> = {
      ...(client as unknown as KeyspaceClient<K, number>),
      increment: (key, by) => run(service.increment(keyspace as unknown as Counter<K>, key, by)),
    }
    return counter as unknown as KeyspaceClient<K, V>
  }

  const close = async () => {
    if (closed) return
    closed = true
    await runtime.dispose()
  }
  return {
    keyspace: clientOf as StrataCache["keyspace"],
    invalidateTag: (tag) => run(service.invalidateTag(tag)),
    stats: () => {
      if (closed) throw closedError()
      return service.stats()
    },
    on: (listener) => {
      if (closed) throw closedError()
      if (typeof listener !== "function")
        throw new InvalidArgument({ argument: "listener", message: "on takes a listener function" })
      return service.onEvent(listener)
    },
    metrics: () => {
      if (closed) return Promise.reject(closedError())
      service.stats()
      return runtime.runPromise(Metric.snapshot)
    },
    close,
    [Symbol.asyncDispose]: close,
    service,
  }
}
