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
import { Clock, Context, Effect, Layer, Scope, Tracer } from "effect"
import { Bus, type Service as BusService } from "./Bus.ts"
import type { Options } from "./CacheOptions.ts"
import type { Service } from "./CacheService.ts"
import { CacheClosed, type InvalidArgument, type InvalidDuration } from "./Errors.ts"
import { isLive, monotonicMillis } from "./internal/clock.ts"
import * as BusEvents from "./internal/engine/busEvents.ts"
import * as Config from "./internal/engine/config.ts"
import * as Flights from "./internal/engine/flights.ts"
import * as L1View from "./internal/engine/l1View.ts"
import * as Leases from "./internal/engine/leases.ts"
import * as Load from "./internal/engine/load.ts"
import * as LoadMany from "./internal/engine/loadMany.ts"
import * as Read from "./internal/engine/read.ts"
import * as SetPromise from "./internal/engine/setPromise.ts"
import * as SharedTier from "./internal/engine/sharedTier.ts"
import * as Telemetry from "./internal/engine/telemetry.ts"
import * as Update from "./internal/engine/update.ts"
import * as Writes from "./internal/engine/writes.ts"
import { FillGuard } from "./internal/fillGuard.ts"
import { Store, type Service as StoreService } from "./Store.ts"

export type { L1Options, LoadOptions, Options, WriteOptions } from "./CacheOptions.ts"

export type { LoadError, Loader, Service, Stats, UpdateError } from "./CacheService.ts"

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
  const guard = new FillGuard(!config.fillGuards, monoNow)
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
  const shared = SharedTier.make(config, l2, l1, telemetry, monoNow, wallNow, traced, spans)
  const busEvents = BusEvents.make(bus, l2, l1, guard, health, telemetry, runFork)
  const writes = Writes.make(config, l1, shared, busEvents, guard, wallNow)
  const setPromise = SetPromise.make(shared, busEvents, writes)
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
  const reads = Read.make(config, l1, shared, guard, telemetry, wallNow, loads)
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

  // Closing the scope closes the cache: every call after that fails with CacheClosed (this finalizer,
  // added last, runs first).
  let closed = false
  yield* Scope.addFinalizer(
    scope,
    Effect.sync(() => {
      closed = true
    }),
  )
  const open = <Args extends Array<any>, A, E, R>(
    f: (...args: Args) => Effect.Effect<A, E, R>,
  ): ((...args: Args) => Effect.Effect<A, E | CacheClosed, R>) =>
    function (this: unknown, ...args: Args) {
      return closed
        ? Effect.fail(new CacheClosed({ message: `cache "${config.name}" is closed` }))
        : f.apply(this, args)
    }

  return Cache.of({
    get: open(reads.get),
    getMany: open(reads.getMany),
    getOrSet: open(reads.getOrSet),
    peekUnsafe: (keyspace, key) => {
      if (closed) throw new CacheClosed({ message: `cache "${config.name}" is closed` })
      return reads.peekUnsafe(keyspace, key)
    },
    getUnsafe: (keyspace, key) => {
      if (closed) throw new CacheClosed({ message: `cache "${config.name}" is closed` })
      return reads.getUnsafe(keyspace, key)
    },
    setPromiseUnsafe: (keyspace, key, value, options) =>
      closed || options !== undefined || setPromise === undefined
        ? undefined
        : setPromise(keyspace, key, value),
    getOrSetMany: open(getOrSetMany),
    set: open(writes.set),
    update: open(Update.make(l1, shared, writes, wallNow)),
    delete: open(writes.delete),
    setMany: open(writes.setMany),
    invalidateTag: open(writes.invalidateTag),
    clear: open(writes.clear),
    increment: open(writes.increment),
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
