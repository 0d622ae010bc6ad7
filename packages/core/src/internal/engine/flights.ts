/**
 * The flights of one cache: one load in flight per key per process, which
 * every caller of the key joins (also after a soft timeout left it running
 * in the background), and how each caller waits on its own terms: past its
 * soft timeout, when it has a stale value inside its grace window, it is
 * served that value (the flight goes on); when the flight fails, it is
 * served the stale value if it has one, and gets the failure otherwise.
 *
 * Loader cycles: flights record which flights their loaders wait on; a
 * loader asking, directly or through others, for a key whose flight waits
 * on it fails at once with `LoaderCycle` instead of waiting for ever.
 */
import { Cause, Context, Deferred, Effect, Exit, Option, type Scope } from "effect"
import { LoaderCycle } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import type { FillGuard, Ticket } from "../fillGuard.ts"
import type { L1View, StaleValue } from "./l1View.ts"
import type { Telemetry } from "./telemetry.ts"

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

/** What a batch's flight ends with for a key whose loader found no row. */
export const NOT_FOUND: unique symbol = Symbol("strata/not-found")

/** The flight whose loader is running in the current fiber, if any. */
export const CurrentFlight = Context.Reference<Flight | undefined>("@strata/core/CurrentFlight", {
  defaultValue: () => undefined,
})

/** Whether `from` waits, directly or through other flights, on `to`. */
export const reaches = (from: Flight, to: Flight, seen = new Set<Flight>()): boolean => {
  if (from === to) return true
  if (seen.has(from)) return false
  seen.add(from)
  for (const next of from.waitsOn) if (reaches(next, to, seen)) return true
  return false
}

/** The flight registry and waiting (see the module comment). */
export type Flights = ReturnType<typeof make>

/** Builds the flight registry of a cache; flights run in `scope`. */
export const make = (
  scope: Scope.Scope,
  l1: L1View,
  guard: FillGuard,
  telemetry: Telemetry,
  monoNow: () => number,
) => {
  const { counts, emit } = telemetry
  const flights = new Map<string, Flight>()

  /** The key of a storage key's flight. */
  const keyOf = (space: string, storeKey: string) => `${space}\u0000${storeKey}`

  /** Registers a flight for `flightKey` and runs `work` for it in the cache's scope. */
  const start = <A, E, R>(flightKey: string, work: (flight: Flight) => Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      const flight: Flight = {
        key: flightKey,
        done: Deferred.makeUnsafe(),
        stale: undefined,
        ticket: undefined,
        waitsOn: new Set(),
      }
      flights.set(flightKey, flight)
      const fiber = yield* Effect.forkIn(work(flight), scope)
      // Observing the fiber settles the flight even when it is interrupted before it starts (a closed scope).
      fiber.addObserver((exit) => settle(flight, exit as Exit.Exit<unknown, unknown>))
      return flight
    })

  /** Registers a flight whose outcome someone else settles (a batch). */
  const register = (flightKey: string): Flight => {
    const flight: Flight = {
      key: flightKey,
      done: Deferred.makeUnsafe(),
      stale: undefined,
      ticket: undefined,
      waitsOn: new Set(),
    }
    flights.set(flightKey, flight)
    return flight
  }

  /** Ends a flight with its outcome; later callers of the key start a new one. */
  const settle = (flight: Flight, exit: Exit.Exit<unknown, unknown>) => {
    if (flights.get(flight.key) === flight) flights.delete(flight.key)
    Deferred.doneUnsafe(flight.done, exit)
  }

  /** The flight in flight for the key, or `LoaderCycle` when it waits on the caller's own flight. */
  const existing = (keyspace: Keyspace<any, any>, storeKey: string, caller: Flight | undefined) => {
    const flight = flights.get(keyOf(keyspace.id, storeKey))
    if (caller !== undefined && flight !== undefined && reaches(flight, caller))
      return new LoaderCycle({ keyspace: keyspace.id, key: storeKey })
    if (flight !== undefined) counts.coalesced++
    return flight
  }

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

  /** A failed flight on a caller's terms: the stale value if it has one (not for an interruption), else the failure. */
  const afterFailure = <V, E>(
    flight: Flight,
    keyspace: Keyspace<any, any>,
    storeKey: string,
    cause: Cause.Cause<E>,
  ) => {
    const stale = Cause.hasInterruptsOnly(cause) ? undefined : staleOf(flight, keyspace, storeKey)
    if (stale === undefined) return Effect.failCause(cause)
    emit({ _tag: "StaleServed", keyspace: keyspace.id, key: storeKey, reason: "loader failed", cause })
    telemetry.staleAged(monoNow() - stale.freshUntil)
    return Effect.succeed(stale.value as V)
  }

  /** Waits for a flight on one caller's terms: its soft timeout, and the stale value on failure. */
  const wait = <V, E>(
    flight: Flight,
    keyspace: Keyspace<any, any>,
    storeKey: string,
    soft: number | undefined,
  ): Effect.Effect<V, E> =>
    // Without a soft timeout: one step per waiter (thousands may wait on one flight).
    soft === undefined
      ? Effect.catchCause(Deferred.await(flight.done) as Effect.Effect<V, E>, (cause) =>
          afterFailure<V, E>(flight, keyspace, storeKey, cause),
        )
      : waitAtMost(flight, keyspace, storeKey, soft)

  const waitAtMost = <V, E>(
    flight: Flight,
    keyspace: Keyspace<any, any>,
    storeKey: string,
    soft: number,
  ): Effect.Effect<V, E> =>
    Effect.gen(function* () {
      const awaited = Effect.exit(Deferred.await(flight.done)) as Effect.Effect<Exit.Exit<V, E>>
      let exit: Exit.Exit<V, E>
      const first = yield* Effect.timeoutOption(awaited, soft)
      if (Option.isSome(first)) exit = first.value
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
          telemetry.staleAged(monoNow() - stale.freshUntil)
          return stale.value as V
        }
        exit = yield* awaited
      }
      if (Exit.isSuccess(exit)) return exit.value
      return yield* afterFailure<V, E>(flight, keyspace, storeKey, exit.cause)
    })

  /** `wait`, recording meanwhile that the caller's flight waits on this one (loader cycles). */
  const waitAs = <V, E>(
    caller: Flight | undefined,
    flight: Flight,
    keyspace: Keyspace<any, any>,
    storeKey: string,
    soft: number | undefined,
  ): Effect.Effect<V, E> => {
    if (caller === undefined) return wait(flight, keyspace, storeKey, soft)
    caller.waitsOn.add(flight)
    return Effect.ensuring(
      wait<V, E>(flight, keyspace, storeKey, soft),
      Effect.sync(() => caller.waitsOn.delete(flight)),
    )
  }

  return {
    keyOf,
    start,
    register,
    settle,
    existing,
    waitAs,
    size: () => flights.size,
    /** Whether a flight of the key is in progress (joining nothing, counting nothing). */
    inProgress: (flightKey: string) => flights.has(flightKey),
  }
}
