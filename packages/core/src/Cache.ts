/**
 * The cache: typed reads and writes through keyspaces, over an in-process
 * tier (L1), an optional shared tier (L2, any `Store`) and an optional bus
 * that carries invalidations between processes.
 *
 * The engine's parts live in `internal/engine/`, one concern a file, each a
 * factory that `make` calls once: `config` (options checked once),
 * `telemetry` (counters, metrics, events), `l1View` (hits, fills, trust),
 * `sharedTier` (L2 through the circuit breaker), `busEvents`, `writes` (one
 * commit sequence for every write), `leases`, `load` (flights) and `read`
 * (the read path, top to bottom). The consistency rules they keep are in
 * the docs' consistency page and ADRs 0005-0008.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer, type Option, Scope, type Stream, Tracer } from "effect"
import { Bus, type Service as BusService } from "./Bus.ts"
import type { CacheEvent } from "./CacheEvent.ts"
import type { LoadOptions, Options, WriteOptions } from "./CacheOptions.ts"
import type {
  EntryTooLarge,
  InvalidArgument,
  InvalidDuration,
  InvalidKey,
  InvalidValue,
  LoaderCycle,
  LoaderFailed,
  StoreError,
  Timeout,
  UpdateConflict,
} from "./Errors.ts"
import type { CircuitState } from "./internal/circuit.ts"
import { isLive, monotonicMillis } from "./internal/clock.ts"
import * as BusEvents from "./internal/engine/busEvents.ts"
import * as Config from "./internal/engine/config.ts"
import * as Flights from "./internal/engine/flights.ts"
import * as L1View from "./internal/engine/l1View.ts"
import * as Leases from "./internal/engine/leases.ts"
import * as Load from "./internal/engine/load.ts"
import * as LoadMany from "./internal/engine/loadMany.ts"
import * as Read from "./internal/engine/read.ts"
import * as SharedTier from "./internal/engine/sharedTier.ts"
import type { Counts } from "./internal/engine/telemetry.ts"
import * as Telemetry from "./internal/engine/telemetry.ts"
import * as Update from "./internal/engine/update.ts"
import * as Writes from "./internal/engine/writes.ts"
import { FillGuard } from "./internal/fillGuard.ts"
import type { Counter, Keyspace } from "./Keyspace.ts"
import { Store, type Service as StoreService } from "./Store.ts"

export type { L1Options, LoadOptions, Options, WriteOptions } from "./CacheOptions.ts"

/** A loader: an effect, or a function of the key returning one. */
export type Loader<K, V, E, R> = Effect.Effect<V, E, R> | ((key: K) => Effect.Effect<V, E, R>)

/**
 * What a cache did since it started: every counter of the telemetry table
 * (`hitsL1`, `hitsL2`, `misses`, `loads`, ..., each documented there), plus
 * the state of its parts now.
 */
export interface Stats extends Readonly<Counts> {
  readonly circuit: CircuitState
  readonly l1Entries: number
  readonly l1Bytes: number
  /** Fills (loads and L2 reads) in flight: 0 at quiescence. */
  readonly fillsInFlight: number
  /** Loads in flight in this process (one per key): 0 at quiescence. */
  readonly flightsInProgress: number
  /** Keys whose loads wait for another process's lease: 0 at quiescence. */
  readonly leaseWaiters: number
}

/**
 * The cache's operations. Every method is typed by the keyspace it is given:
 * keys and values are checked against the keyspace's types, never used to
 * infer them (`NoInfer`), so a literal such as `{ plan: "pro" }` is checked
 * against `"free" | "pro"` instead of widening the type to `string`.
 */
export interface Service {
  /**
   * The fresh value under `key`, from L1 or L2, or `None`. Never calls a
   * loader. A failing shared tier is a miss (see `l2ReadErrors`).
   */
  readonly get: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
  ) => Effect.Effect<Option.Option<V>, InvalidKey | StoreError>
  /**
   * The fresh value under `key`; on a miss, runs `loader` once for all
   * concurrent callers in this process (and, with leases, once across
   * processes), stores its value and returns it. A failed load is not cached;
   * a stale value inside its grace window is served instead of a failure or
   * after a soft timeout. Store failures on this path are recovered from
   * (reported as `StoreFailed` events). A loader asking for a key whose load
   * waits on it fails with `LoaderCycle`.
   */
  readonly getOrSet: <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
    loader: Loader<NoInfer<K>, NoInfer<V>, E, R>,
    options?: LoadOptions,
  ) => Effect.Effect<
    V,
    E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | Timeout | LoaderCycle,
    R
  >
  /**
   * The fresh values of many keys, in order; on misses, calls `loadMany`
   * **once** with every key this process must load (after L1, and L2 in one
   * round trip), stores each row and returns it. A row `loadMany` returns as
   * `undefined` is not found: `None`, not cached. Keys in flight are joined;
   * with leases, keys another process is loading are waited for. Fails with
   * `InvalidValue` when `loadMany` returns a different number of rows than
   * keys (nothing is stored).
   */
  readonly getOrSetMany: <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    keys: ReadonlyArray<NoInfer<K>>,
    loadMany: (keys: ReadonlyArray<NoInfer<K>>) => Effect.Effect<ReadonlyArray<NoInfer<V> | undefined>, E, R>,
    options?: LoadOptions,
  ) => Effect.Effect<
    ReadonlyArray<Option.Option<V>>,
    E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | InvalidArgument | Timeout | LoaderCycle,
    R
  >
  /** Stores `value` under `key` (L2, then L1, then the bus). */
  readonly set: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
    value: NoInfer<V>,
    options?: WriteOptions,
  ) => Effect.Effect<
    void,
    InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | InvalidArgument | StoreError
  >
  /**
   * Replaces the value under `key` with `f(current)` atomically: `current` is
   * the fresh value the authoritative tier holds (or `undefined`), and no
   * concurrent write is lost (optimistic compare-and-set on the shared tier,
   * retried on conflict; see `UPDATE_ATTEMPTS`). `f` must be pure: it may run
   * more than once; returning `current` itself writes nothing. Returns the
   * value now stored. Fails with `UpdateConflict` after repeated conflicts,
   * `LoaderFailed` when `f` throws, and `InvalidArgument` when the shared
   * tier cannot compare and set.
   */
  readonly update: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
    f: (current: NoInfer<V> | undefined) => NoInfer<V>,
    options?: WriteOptions,
  ) => Effect.Effect<
    V,
    | InvalidKey
    | InvalidValue
    | EntryTooLarge
    | InvalidDuration
    | InvalidArgument
    | LoaderFailed
    | UpdateConflict
    | StoreError
  >
  /** Removes `key` (L2, then L1, then the bus). */
  readonly delete: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
  ) => Effect.Effect<void, InvalidKey | StoreError>
  /** `get` for many keys, in order; one L2 round trip for all L1 misses. */
  readonly getMany: <K, V>(
    keyspace: Keyspace<K, V>,
    keys: ReadonlyArray<NoInfer<K>>,
  ) => Effect.Effect<ReadonlyArray<Option.Option<V>>, InvalidKey | InvalidArgument | StoreError>
  /** `set` for many entries. Every key and value is validated before anything is written. */
  readonly setMany: <K, V>(
    keyspace: Keyspace<K, V>,
    entries: ReadonlyArray<readonly [NoInfer<K>, NoInfer<V>]>,
    options?: WriteOptions,
  ) => Effect.Effect<
    void,
    InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | InvalidArgument | StoreError
  >
  /** Makes every entry carrying `tag` a miss from now on, in every process. */
  readonly invalidateTag: (tag: string) => Effect.Effect<void, InvalidArgument | StoreError>
  /** Removes every entry of a keyspace, in every process. */
  readonly clear: <K, V>(keyspace: Keyspace<K, V>) => Effect.Effect<void, StoreError>
  /**
   * Adds `by` (a safe integer, default 1; negative subtracts) to a counter
   * atomically and returns the new count. Fails with `InvalidArgument`
   * before any I/O for any other `by`, and when the count would leave
   * ±(2^53 − 1).
   */
  readonly increment: <K>(
    counter: Counter<K>,
    key: NoInfer<K>,
    by?: number,
  ) => Effect.Effect<number, InvalidKey | InvalidArgument | StoreError>
  /**
   * Synchronous L1-only read: the fresh value, or `undefined` on a miss
   * (including a value only L2 holds). Throws `InvalidKey`. This is the hot
   * path the Promise facade uses before it runs any effect.
   */
  readonly peekUnsafe: <K, V>(keyspace: Keyspace<K, V>, key: NoInfer<K>) => V | undefined
  /** A snapshot of the counters (also pushes them into the Effect metrics). */
  readonly stats: () => Stats
  /** Every event the cache reports, from subscription on. */
  readonly events: Stream.Stream<CacheEvent>
  /** Registers a listener for events; returns the function that removes it. */
  readonly onEvent: (listener: (event: CacheEvent) => void) => () => void
}

/**
 * The `Cache` service.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const cache = yield* Cache.Cache
 *   const profile = yield* cache.getOrSet(Profiles, { userId: 42 }, ({ userId }) => loadProfile(userId))
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Cache.layer())))
 * ```
 */
export class Cache extends Context.Service<Cache, Service>()("@strata/core/Cache") {}

/**
 * Builds a cache over an optional shared tier and an optional bus. Loads run
 * in the scope this effect is given, so closing it interrupts them. Fails
 * with `InvalidArgument` or `InvalidDuration` for a bad option.
 */
export const make = Effect.fnUntraced(function* (
  options: Options = {},
  l2: StoreService | undefined = undefined,
  bus: BusService | undefined = undefined,
) {
  const config = yield* Effect.try({
    try: () => Config.parse(options, l2, bus),
    catch: (error) => error as InvalidArgument | InvalidDuration,
  })
  const scope = yield* Effect.scope
  const clock = yield* Clock.Clock
  const context = yield* Effect.context<never>()
  const runFork = Effect.runForkWith(context)
  const spans = config.spans === "auto" ? (yield* Tracer.Tracer) !== Tracer.nativeTracer : config.spans
  const traced = <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    span: string,
    attributes: Record<string, string>,
  ) => (spans ? Effect.withSpan(effect, span, { attributes, captureStackTrace: false }) : effect)
  const wallNow = () => clock.currentTimeMillisUnsafe()
  const monoNow = monotonicMillis(clock)

  const telemetry = Telemetry.make(config.name, context, runFork)
  const guard = new FillGuard(!config.fillGuards)
  const health: L1View.BusHealth = { down: false }
  const l1 = L1View.make(
    config,
    monoNow,
    wallNow,
    guard,
    telemetry,
    bus,
    l2 !== undefined,
    health,
    isLive(clock),
  )
  const shared = SharedTier.make(config, l2, l1, telemetry, monoNow, wallNow, traced)
  const busEvents = BusEvents.make(bus, l2, l1, guard, health, telemetry, runFork)
  const writes = Writes.make(config, l1, shared, busEvents, guard, wallNow)
  const leaseStep = config.lease === undefined ? undefined : Leases.make(config, shared, busEvents, telemetry)
  const flights = Flights.make(scope, l1, guard, telemetry, monoNow)
  const loads = Load.make(
    config,
    scope,
    l1,
    shared,
    busEvents,
    writes,
    leaseStep,
    guard,
    flights,
    telemetry,
    traced,
  )
  const getOrSetMany = LoadMany.make(
    config,
    l1,
    shared,
    leaseStep,
    guard,
    flights,
    loads,
    telemetry,
    monoNow,
    wallNow,
    scope,
  )
  const reads = Read.make(config, l1, shared, guard, telemetry, wallNow, loads.load)
  if (bus !== undefined) yield* bus.subscribe(busEvents.onEvent)

  const gauges = () => ({
    circuit: ({ closed: 0, "half-open": 1, open: 2 } as const)[shared.circuitState()],
    l1Entries: l1.tier?.sieve.size ?? 0,
  })
  // An unref'd timer: a cache nobody closed must not keep the process alive.
  const metricsTimer = setInterval(() => telemetry.sync(gauges()), config.metricsInterval)
  metricsTimer.unref()
  yield* Scope.addFinalizer(
    scope,
    Effect.sync(() => {
      clearInterval(metricsTimer)
      telemetry.sync(gauges())
      l1.tier?.sieve.clear()
    }),
  )

  return Cache.of({
    ...reads,
    getOrSetMany,
    set: writes.set,
    update: Update.make(l1, shared, writes, wallNow),
    delete: writes.delete,
    setMany: writes.setMany,
    invalidateTag: writes.invalidateTag,
    clear: writes.clear,
    increment: writes.increment,
    stats: () => {
      telemetry.sync(gauges())
      return {
        ...telemetry.counts,
        circuit: shared.circuitState(),
        l1Entries: l1.tier?.sieve.size ?? 0,
        l1Bytes: l1.tier?.sieve.bytes ?? 0,
        fillsInFlight: guard.size,
        flightsInProgress: flights.size(),
        leaseWaiters: busEvents.waiters(),
      }
    },
    events: telemetry.events,
    onEvent: telemetry.onEvent,
  })
})

/** The options of {@link layer}: the cache's options plus the layers of its tiers. */
export interface LayerOptions<E2, R2, E3, R3> extends Options {
  /** The shared tier, such as `RedisStore.layer(...)` or `MemoryStore.layer()`. */
  readonly l2?: Layer.Layer<Store, E2, R2> | undefined
  /** The bus, such as `RedisBus.layer(...)`: invalidations between processes. */
  readonly bus?: Layer.Layer<Bus, E3, R3> | undefined
}

/**
 * A layer providing the `Cache` service: L1 only, or L1 over the store that
 * `l2` provides, kept coherent across processes by the bus `bus` provides.
 *
 * @example
 * ```ts
 * const Embedded = Cache.layer()                                         // L1 only
 * const Tiered = Cache.layer({ l2: RedisStore.layer(redis), bus: RedisBus.layer(redis) })
 * ```
 */
export const layer = <E2 = never, R2 = never, E3 = never, R3 = never>(
  options: LayerOptions<E2, R2, E3, R3> = {},
): Layer.Layer<Cache, E2 | E3, R2 | R3> => {
  const { l2, bus, ...rest } = options
  const cache = Layer.effect(
    Cache,
    Effect.gen(function* () {
      const store = l2 === undefined ? undefined : yield* Store
      const busService = bus === undefined ? undefined : yield* Bus
      return yield* make(rest, store, busService)
    }),
  )
  // The requirements are exactly the given tiers' ones: Store and Bus are provided only when given.
  const withStore: Layer.Layer<Cache, unknown, unknown> =
    l2 === undefined ? cache : cache.pipe(Layer.provide(l2))
  const withBus = bus === undefined ? withStore : withStore.pipe(Layer.provide(bus))
  return withBus as Layer.Layer<Cache, E2 | E3, R2 | R3>
}
