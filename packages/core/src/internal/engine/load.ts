/**
 * Loads on a miss: the work of one key's flight (see `flights`), run in the
 * cache's scope: read L2, take the lease (or wait for another process's
 * fill), run the loader with its hard timeout, write L2 as a compare-and-set
 * on the version read, fill L1 if the fill's ticket still holds, announce
 * the fill. The load uses the options of the caller that started it (TTL
 * overrides, hard timeout); each caller's soft timeout bounds its own wait.
 */
import { Duration, Effect, Exit, Fiber, type Scope } from "effect"
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
import type { FillGuard } from "../fillGuard.ts"
import type { BusEvents } from "./busEvents.ts"
import type { Config } from "./config.ts"
import * as Fill from "./fill.ts"
import { CurrentFlight, type Flight, type Flights, NOT_FOUND } from "./flights.ts"
import { LOAD_OPTIONS, lifetimeOf, readOptions, tagsOf } from "./inputs.ts"
import { type L1View, MISS } from "./l1View.ts"
import type { LeaseStep } from "./leases.ts"
import { noRead, type SharedTier } from "./sharedTier.ts"
import type { Telemetry } from "./telemetry.ts"
import type { Writes } from "./writes.ts"

/** A duration option in ms, or `undefined` when absent; `InvalidDuration` when unusable. */
export const timeoutOf = (
  value: unknown,
  what: string,
): Effect.Effect<number | undefined, InvalidDuration> =>
  value === undefined
    ? Effect.succeed(undefined)
    : Effect.try({ try: () => toMillis(value as never, what), catch: (e) => e as InvalidDuration })

/** The timeouts of per-call load options (already checked to be readable by the caller's `load`). */
const readLoadOptions = (options: LoadOptions | undefined) =>
  options === undefined
    ? { softTimeout: undefined, hardTimeout: undefined }
    : readOptions(options, ["softTimeout", "hardTimeout"], LOAD_OPTIONS)

/** The load path's parts (see {@link make}). */
export type Loads = ReturnType<typeof make>

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
  flights: Flights,
  telemetry: Telemetry,
  traced: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    span: string,
    attributes: Record<string, string>,
  ) => Effect.Effect<A, E, R>,
) => {
  const { counts } = telemetry
  const store = l2.store
  const { tagsBefore, storeLoaded } = Fill.make(config, l1, l2, bus, writes, guard)

  /** Releases a lease in the background: waiters are woken by the Filled message, not by the release. */
  const release = (keyspace: Keyspace<any, any>, storeKey: string, token: string) =>
    Effect.forkIn(releaseNow(keyspace, storeKey, token), scope).pipe(Effect.asVoid)

  /**
   * Releases a lease and waits for it: when a load is interrupted (the cache
   * closing, a deploy's SIGTERM), the other processes must not wait out the
   * lease's TTL as they would after a crash.
   */
  const releaseNow = (keyspace: Keyspace<any, any>, storeKey: string, token: string) =>
    l2
      .via("lease", store!.leases!.release(keyspace.id, storeKey, token))
      .pipe(Effect.catch(l2.recover(keyspace, "lease", false)), Effect.asVoid)

  /**
   * A loader's effect as the load runs it: under the hard timeout (`Timeout`),
   * in a span, with `flight` as the current flight (loader cycles), counting
   * failures.
   */
  const timed = <A, E, R>(
    keyspace: Keyspace<any, any>,
    effect: Effect.Effect<A, E, R>,
    hard: number | undefined,
    flight: Flight,
  ): Effect.Effect<A, E | Timeout, R> =>
    effect.pipe(
      (self) =>
        hard === undefined
          ? self
          : Effect.timeoutOrElse(self, {
              duration: hard,
              orElse: () => Effect.fail(new Timeout({ operation: `loader of ${keyspace.id}`, millis: hard })),
            }),
      (self) =>
        traced(self, "strata.loader", { "strata.cache": config.name, "strata.keyspace": keyspace.id }),
      Effect.timed,
      Effect.map(([took, value]) => {
        telemetry.loaderTook(keyspace.id, Duration.toMillis(took))
        return value
      }),
      Effect.provideService(CurrentFlight, flight),
      Effect.tapError(() =>
        Effect.sync(() => {
          counts.loadFailures++
        }),
      ),
    )

  /**
   * Keeps a lease held while its loader runs: renews it every third of its
   * TTL, so a slow loader is not taken over as if its holder had died (the
   * store's `renew`; without it, a loader slower than `lease.ttl` is loaded
   * again elsewhere). Stops when the lease is lost or the load ends.
   */
  const renewWhileLoading = (
    keyspace: Keyspace<any, any>,
    storeKey: string,
    lease: { token: string | undefined },
  ) =>
    Effect.gen(function* () {
      const renew = store?.leases?.renew
      const ttl = config.lease?.ttl
      if (renew === undefined || ttl === undefined) return
      for (;;) {
        yield* Effect.sleep(Math.max(1, Math.floor(ttl / 3)))
        if (lease.token === undefined) return
        const renewed = yield* l2
          .via("lease", renew(keyspace.id, storeKey, lease.token, ttl))
          .pipe(Effect.catch(l2.recover(keyspace, "lease", false)))
        if (!renewed) return
      }
    })

  /** The work of one flight; its value is the loaded (or, if another process filled first, read) value. */
  const work = <K, V, E, R>(
    flight: Flight,
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: LoadOptions | undefined,
    // For an early refresh: how long (ms) the L1 copy that started it had left.
    early?: number,
  ) =>
    Effect.gen(function* () {
      const { ttl, staleFor } = yield* lifetimeOf(keyspace, options, LOAD_OPTIONS)
      const hard = yield* hardTimeoutOf(options)
      const tags = yield* Effect.try({ try: () => tagsOf(keyspace, key), catch: (e) => e as InvalidKey })
      const ticket = guard.begin(keyspace.id, storeKey, tags)
      flight.ticket = ticket
      const lease: { token: string | undefined } = { token: undefined }
      return yield* Effect.gen(function* () {
        const leases = leaseStep !== undefined ? store?.leases : undefined
        // With leases, a cold key is read and leased in one round trip where the store can.
        const combined =
          leases?.readOrAcquire !== undefined && config.fillGuards && early === undefined
            ? yield* l2
                .readOrAcquire(keyspace, storeKey, ticket, config.lease!.ttl)
                .pipe(
                  Effect.catch(l2.recover(keyspace, "get", { read: noRead(undefined), lease: undefined })),
                )
            : {
                read: yield* l2
                  .readThrough(keyspace, storeKey, ticket)
                  .pipe(Effect.catch(l2.recover(keyspace, "get", noRead(undefined)))),
                lease: undefined,
              }
        let read = combined.read
        if (read.fresh !== MISS) {
          if (early === undefined) return read.fresh as V
          // An early refresh of a fresh key. Another process may have refreshed it already: the copy read from
          // L2 (now in L1) then lives longer than the one that started this.
          if ((l1.freshFor(keyspace.id, storeKey) ?? 0) > early) return read.fresh as V
          // One process refreshes; when another holds the lease, it is refreshing.
          if (leases !== undefined) {
            const taken = yield* l2
              .via("lease", leases.acquire(keyspace.id, storeKey, config.lease!.ttl, read.version))
              .pipe(Effect.catch(l2.recover(keyspace, "lease", undefined)))
            if (taken?._tag !== "Acquired") return read.fresh as V
            lease.token = taken.token
          }
        } else if (early === undefined) {
          // A refresh is no caller's miss.
          counts.misses++
          flight.stale = read.stale ?? l1.stale(keyspace, storeKey)
        }

        // Cross-process stampede protection: one process loads, the others wait for its fill.
        // (An early refresh of a fresh key holds its lease already.)
        if (lease.token !== undefined || leases === undefined) {
          // Guarded already, or without leases.
        } else if (combined.lease?._tag === "Acquired") lease.token = combined.lease.token
        else {
          const leased = yield* leaseStep!(leases, keyspace, storeKey, read, ticket)
          if (leased.read.fresh !== MISS) return leased.read.fresh as V
          read = leased.read
          lease.token = leased.token
        }

        const tagVersions = yield* tagsBefore(keyspace, key)
        counts.loads++
        const renewer =
          lease.token === undefined
            ? undefined
            : yield* Effect.forkChild(renewWhileLoading(keyspace, storeKey, lease))
        const loaded = yield* timed(
          keyspace,
          Effect.isEffect(loader) ? loader : loader(key),
          hard,
          flight,
        ).pipe(Effect.ensuring(renewer === undefined ? Effect.void : Fiber.interrupt(renewer)))
        return (yield* storeLoaded(
          keyspace,
          key,
          storeKey,
          loaded,
          ttl,
          staleFor,
          read.version,
          ticket,
          lease,
          tagVersions,
        )) as V
      }).pipe(
        Effect.onExit((exit) =>
          Effect.suspend(() => {
            guard.end(ticket)
            if (lease.token === undefined) return Effect.void
            return Exit.hasInterrupts(exit)
              ? releaseNow(keyspace, storeKey, lease.token)
              : release(keyspace, storeKey, lease.token)
          }),
        ),
      )
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
    E | InvalidValue | EntryTooLarge | InvalidDuration | InvalidKey | InvalidArgument | Timeout | LoaderCycle,
    R
  > =>
    Effect.gen(function* () {
      const soft = yield* softTimeoutOf(options)
      const caller = yield* CurrentFlight
      const existing = flights.existing(keyspace, storeKey, caller)
      if (existing instanceof LoaderCycle) return yield* existing
      const flight =
        existing ??
        (yield* flights.start(flights.keyOf(keyspace.id, storeKey), (started) =>
          work(started, keyspace, key, storeKey, loader, options),
        ))
      const value = yield* flights.waitAs<
        V | typeof NOT_FOUND,
        E | InvalidValue | EntryTooLarge | InvalidDuration | InvalidKey | Timeout
      >(caller, flight, keyspace, storeKey, soft)
      // A batch found no row for this key: this caller's own loader decides.
      if (value === NOT_FOUND) return yield* load(keyspace, key, storeKey, loader, options)
      return value
    }) as never

  /** The load's hard timeout: the starting caller's option, else the cache's default. */
  const hardTimeoutOf = (options: LoadOptions | undefined) =>
    Effect.gen(function* () {
      const read = yield* Effect.try({
        try: () => readLoadOptions(options),
        catch: (e) => e as InvalidArgument,
      })
      return (yield* timeoutOf(read.hardTimeout, "hardTimeout")) ?? config.hardTimeout
    })

  const defaultSoft = Effect.succeed(config.softTimeout)
  /** The caller's soft timeout: its option, else the cache's default (no effect steps without options). */
  const softTimeoutOf = (options: LoadOptions | undefined) =>
    options === undefined ? defaultSoft : softTimeoutFrom(options)
  const softTimeoutFrom = (options: LoadOptions) =>
    Effect.gen(function* () {
      const read = yield* Effect.try({
        try: () => readLoadOptions(options),
        catch: (e) => e as InvalidArgument,
      })
      return (yield* timeoutOf(read.softTimeout, "softTimeout")) ?? config.softTimeout
    })

  /**
   * Starts an early refresh of a key that is still fresh (see
   * `earlyRefresh`): a flight like a load's, in the background, unless one is
   * in progress. Its failures are counted and otherwise left: the value in
   * place stays until it expires.
   */
  const refresh = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: LoadOptions | undefined,
    left: number,
  ): Effect.Effect<void, never, R> => {
    const flightKey = flights.keyOf(keyspace.id, storeKey)
    if (flights.inProgress(flightKey)) return Effect.void
    counts.earlyRefreshes++
    return Effect.asVoid(
      flights.start(flightKey, (started) => work(started, keyspace, key, storeKey, loader, options, left)),
    )
  }

  return { load, refresh, timed, tagsBefore, storeLoaded, release, softTimeoutOf, hardTimeoutOf }
}
