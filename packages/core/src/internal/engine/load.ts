/**
 * Loads on a miss. One **flight** per key per process runs the whole load in
 * its own fiber, in the cache's scope: read L2, take the lease (or wait for
 * another process's fill), run the loader with its hard timeout, write L2 as
 * a compare-and-set on the version read, fill L1 if the fill's ticket still
 * holds, announce the fill. Every caller of the key joins the flight in
 * flight, also after a soft timeout left it running in the background, so a
 * background refresh is shared like any other load.
 *
 * Each caller waits on its own terms: past its soft timeout, when it has a
 * stale value inside its grace window, it is served that value (the flight
 * goes on); when the flight fails, it is served the stale value if it has
 * one, and gets the failure otherwise. The load itself uses the options of
 * the caller that started it (TTL overrides, hard timeout).
 *
 * A loader that asks, directly or through other loaders, for a key whose
 * flight waits on it would wait for ever: flights record which flights their
 * loaders wait on, and such a request fails at once with `LoaderCycle`.
 */
import { Cause, Context, Deferred, Effect, Exit, Option, type Scope } from "effect"
import type { Loader, LoadOptions } from "../../Cache.ts"
import {
  type EntryTooLarge,
  type InvalidArgument,
  type InvalidDuration,
  type InvalidKey,
  type InvalidValue,
  LoaderCycle,
  Timeout,
} from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import { toMillis } from "../duration.ts"
import type { FillGuard, Ticket } from "../fillGuard.ts"
import type { BusEvents } from "./busEvents.ts"
import type { Config } from "./config.ts"
import { lifetimeOf, readOptions, tagsOf } from "./inputs.ts"
import { type L1View, MISS, type StaleValue } from "./l1View.ts"
import type { LeaseStep } from "./leases.ts"
import { noRead, type SharedTier } from "./sharedTier.ts"
import type { Telemetry } from "./telemetry.ts"
import type { Writes } from "./writes.ts"

/** One load in flight. */
export interface Flight {
  readonly key: string
  readonly done: Deferred.Deferred<unknown, unknown>
  /** The value callers may be served stale, once the flight has read L2; valid while `ticket` holds. */
  stale: StaleValue | undefined
  ticket: Ticket | undefined
  /** The flights this flight's loader is waiting on. */
  readonly waitsOn: Set<Flight>
}

/** The flight whose loader is running in the current fiber, if any. */
export const CurrentFlight = Context.Reference<Flight | undefined>("@strata/core/CurrentFlight", {
  defaultValue: () => undefined,
})

/** Whether `from` waits, directly or through other flights, on `to`. */
const reaches = (from: Flight, to: Flight, seen = new Set<Flight>()): boolean => {
  if (from === to) return true
  if (seen.has(from)) return false
  seen.add(from)
  for (const next of from.waitsOn) if (reaches(next, to, seen)) return true
  return false
}

const timeoutOf = (value: unknown, what: string): Effect.Effect<number | undefined, InvalidDuration> =>
  value === undefined
    ? Effect.succeed(undefined)
    : Effect.try({ try: () => toMillis(value as never, what), catch: (e) => e as InvalidDuration })

/** The timeouts of per-call load options (already checked to be readable by the caller's `load`). */
const readLoadOptions = (options: LoadOptions | undefined) =>
  options === undefined
    ? { softTimeout: undefined, hardTimeout: undefined }
    : readOptions(options, ["softTimeout", "hardTimeout"])

/** Builds the load path. */
export const make = (
  config: Config,
  scope: Scope.Scope,
  l1: L1View,
  l2: SharedTier,
  bus: BusEvents,
  writes: Writes,
  leaseStep: LeaseStep | undefined,
  guard: FillGuard,
  telemetry: Telemetry,
  monoNow: () => number,
  traced: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    span: string,
    attributes: Record<string, string>,
  ) => Effect.Effect<A, E, R>,
) => {
  const { counts, emit } = telemetry
  const store = l2.store
  const flights = new Map<string, Flight>()

  /** Releases a lease in the background: waiters are woken by the Filled message, not by the release. */
  const release = (keyspace: Keyspace<any, any>, storeKey: string, token: string) =>
    l2
      .via("lease", store!.leases!.release(keyspace.id, storeKey, token))
      .pipe(Effect.catch(l2.recover(keyspace, "lease", false)), Effect.forkIn(scope), Effect.asVoid)

  /** The work of one flight; its value is the loaded (or, if another process filled first, read) value. */
  const work = <K, V, E, R>(
    flight: Flight,
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: LoadOptions | undefined,
  ) =>
    Effect.gen(function* () {
      const { ttl, staleFor } = yield* lifetimeOf(keyspace, options)
      const hard =
        (yield* timeoutOf(readLoadOptions(options).hardTimeout, "hardTimeout")) ?? config.hardTimeout
      const tags = yield* Effect.try({ try: () => tagsOf(keyspace, key), catch: (e) => e as InvalidKey })
      const ticket = guard.begin(keyspace.id, storeKey, tags)
      flight.ticket = ticket
      let token: string | undefined
      return yield* Effect.gen(function* () {
        let read = yield* l2
          .readThrough(keyspace, storeKey, ticket)
          .pipe(Effect.catch(l2.recover(keyspace, "get", noRead(undefined))))
        if (read.fresh !== MISS) return read.fresh as V
        counts.misses++
        flight.stale = read.stale ?? l1.stale(keyspace, storeKey)

        // Cross-process stampede protection: one process loads, the others wait for its fill.
        if (leaseStep !== undefined && store?.leases !== undefined) {
          const leased = yield* leaseStep(store.leases, keyspace, storeKey, read, ticket)
          if (leased.read.fresh !== MISS) return leased.read.fresh as V
          read = leased.read
          token = leased.token
        }

        counts.loads++
        const loaded = yield* (Effect.isEffect(loader) ? loader : loader(key)).pipe(
          (self) =>
            hard === undefined
              ? self
              : Effect.timeoutOrElse(self, {
                  duration: hard,
                  orElse: () =>
                    Effect.fail(new Timeout({ operation: `loader of ${keyspace.id}`, millis: hard })),
                }),
          (self) =>
            traced(self, "strata.loader", { "strata.cache": config.name, "strata.keyspace": keyspace.id }),
          Effect.provideService(CurrentFlight, flight),
          Effect.tapError(() =>
            Effect.sync(() => {
              counts.loadFailures++
            }),
          ),
        )
        const prepared = yield* writes.prepare(keyspace, key, loaded, ttl, staleFor).pipe(
          // Without current tag versions the entry could not be checked later: serve it, do not store it.
          Effect.catchTag(["StoreUnavailable", "Timeout"], l2.recover(keyspace, "tagVersions", undefined)),
        )
        if (prepared === undefined) return loaded as V
        if (store !== undefined) {
          const versioned = config.fillGuards ? store.versioned : undefined
          const write =
            versioned !== undefined && read.version !== undefined
              ? versioned.fill(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis, read.version)
              : Effect.as(store.set(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis), true)
          const written = yield* l2.via("fill", write).pipe(Effect.catch(l2.recover(keyspace, "fill", false)))
          // Not written: a newer write or delete got there first, or the outcome is unknown. L1 keeps out of it.
          if (!written) return l1.copyOf(keyspace, prepared.bytes) as V
        }
        const value = writes.fillWritten(keyspace, storeKey, prepared, ticket) as V
        if (token !== undefined) yield* bus.publish({ _tag: "Filled", space: keyspace.id, keys: [storeKey] })
        return value
      }).pipe(
        Effect.ensuring(
          Effect.suspend(() => {
            guard.end(ticket)
            return token === undefined ? Effect.void : release(keyspace, storeKey, token)
          }),
        ),
      )
    })

  /** The stale value a caller may be served now, if any. */
  const staleOf = (
    flight: Flight,
    keyspace: Keyspace<any, any>,
    storeKey: string,
  ): StaleValue | undefined => {
    const fromFlight = flight.ticket !== undefined && guard.valid(flight.ticket) ? flight.stale : undefined
    const stale = fromFlight ?? l1.stale(keyspace, storeKey)
    return stale !== undefined && stale.deadline > monoNow() ? stale : undefined
  }

  /** Starts the flight of a key. */
  const start = <K, V, E, R>(
    flightKey: string,
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: LoadOptions | undefined,
  ) =>
    Effect.gen(function* () {
      const flight: Flight = {
        key: flightKey,
        done: Deferred.makeUnsafe(),
        stale: undefined,
        ticket: undefined,
        waitsOn: new Set(),
      }
      flights.set(flightKey, flight)
      const fiber = yield* Effect.forkIn(work(flight, keyspace, key, storeKey, loader, options), scope)
      // Observing the fiber settles the flight even when it is interrupted before it starts (a closed scope).
      fiber.addObserver((exit) => {
        if (flights.get(flightKey) === flight) flights.delete(flightKey)
        Deferred.doneUnsafe(flight.done, exit as Exit.Exit<unknown, unknown>)
      })
      return flight
    })

  /** Waits for a flight on one caller's terms: its soft timeout, and the stale value on failure. */
  const wait = <V, E>(
    flight: Flight,
    keyspace: Keyspace<any, V>,
    storeKey: string,
    soft: number | undefined,
  ): Effect.Effect<V, E> =>
    Effect.gen(function* () {
      const awaited = Effect.exit(Deferred.await(flight.done)) as Effect.Effect<Exit.Exit<V, E>>
      let exit: Exit.Exit<V, E>
      const first = soft === undefined ? undefined : yield* Effect.timeoutOption(awaited, soft)
      if (first === undefined) exit = yield* awaited
      else if (Option.isSome(first)) exit = first.value
      else {
        const stale = staleOf(flight, keyspace, storeKey)
        if (stale !== undefined) {
          emit({
            _tag: "StaleServed",
            keyspace: keyspace.id,
            key: storeKey,
            reason: "soft timeout",
            cause: undefined,
          })
          return stale.value as V
        }
        exit = yield* awaited
      }
      if (Exit.isSuccess(exit)) return exit.value
      const stale = Cause.hasInterruptsOnly(exit.cause) ? undefined : staleOf(flight, keyspace, storeKey)
      if (stale !== undefined) {
        emit({
          _tag: "StaleServed",
          keyspace: keyspace.id,
          key: storeKey,
          reason: "loader failed",
          cause: exit.cause,
        })
        return stale.value as V
      }
      return yield* exit
    })

  /**
   * Joins (or starts) the flight of a key that missed L1, and waits for it
   * on this caller's terms. Fails with `LoaderCycle` when the flight waits,
   * directly or through others, on the flight whose loader is asking.
   */
  const load = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: LoadOptions | undefined,
  ): Effect.Effect<
    V,
    E | InvalidValue | EntryTooLarge | InvalidDuration | InvalidKey | Timeout | LoaderCycle,
    R
  > =>
    Effect.gen(function* () {
      const read = yield* Effect.try({
        try: () => readLoadOptions(options),
        catch: (e) => e as InvalidArgument,
      })
      const soft = (yield* timeoutOf(read.softTimeout, "softTimeout")) ?? config.softTimeout
      const caller = yield* CurrentFlight
      const flightKey = `${keyspace.id}\u0000${storeKey}`
      const existing = flights.get(flightKey)
      if (caller !== undefined && existing !== undefined && reaches(existing, caller)) {
        return yield* new LoaderCycle({ keyspace: keyspace.id, key: storeKey })
      }
      if (existing !== undefined) counts.coalesced++
      const flight = existing ?? (yield* start(flightKey, keyspace, key, storeKey, loader, options))
      const waited = wait<V, E | InvalidValue | EntryTooLarge | InvalidDuration | InvalidKey | Timeout>(
        flight,
        keyspace,
        storeKey,
        soft,
      )
      if (caller === undefined) return yield* waited
      caller.waitsOn.add(flight)
      return yield* Effect.ensuring(
        waited,
        Effect.sync(() => caller.waitsOn.delete(flight)),
      )
    }) as Effect.Effect<
      V,
      E | InvalidValue | EntryTooLarge | InvalidDuration | InvalidKey | Timeout | LoaderCycle,
      R
    >

  return { load, flights: () => flights.size }
}
