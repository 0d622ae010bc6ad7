/**
 * In-process single flight: concurrent callers asking for the same key share
 * one run of the work. The work runs in its own fiber, forked into the scope
 * of the owner (the cache), not into any caller: interrupting one caller, even
 * the first, never cancels the work for the others, and a failure reaches
 * every caller of that flight without being remembered for later ones.
 *
 * @since 0.1.0
 */
import { Deferred, Effect, type Scope } from "effect"

/** A group of flights keyed by string. */
export interface SingleFlight {
  /**
   * Runs `work` for `key`, or joins the run already in flight for `key`.
   * `onJoin` is called when a caller joins an existing flight (for metrics).
   */
  readonly run: <A, E, R>(
    key: string,
    work: Effect.Effect<A, E, R>,
    onJoin?: () => void,
  ) => Effect.Effect<A, E, R>
  /** Number of flights in progress: 0 at quiescence. */
  readonly size: () => number
}

/**
 * Makes a single-flight group whose work runs in `scope`; closing the scope
 * interrupts the work still in flight and fails its callers with the
 * interruption.
 *
 * @example
 * ```ts
 * const flights = SingleFlight.make(yield* Effect.scope)
 * const [a, b] = yield* Effect.all([flights.run("k", load), flights.run("k", load)], { concurrency: 2 })
 * // load ran once
 * ```
 */
export const make = (scope: Scope.Scope): SingleFlight => {
  const inflight = new Map<string, Deferred.Deferred<any, any>>()
  const run = <A, E, R>(
    key: string,
    work: Effect.Effect<A, E, R>,
    onJoin?: () => void,
  ): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      const existing = inflight.get(key) as Deferred.Deferred<A, E> | undefined
      if (existing !== undefined) {
        onJoin?.()
        return Deferred.await(existing)
      }
      const deferred = Deferred.makeUnsafe<A, E>()
      inflight.set(key, deferred)
      return Effect.forkIn(work, scope).pipe(
        Effect.andThen((fiber) => {
          // Observing the fiber, not wrapping the work, settles the flight even when the
          // fiber is interrupted before it starts (a closed scope): no caller can hang.
          fiber.addObserver((exit) => {
            if (inflight.get(key) === deferred) inflight.delete(key)
            Deferred.doneUnsafe(deferred, exit)
          })
          return Deferred.await(deferred)
        }),
      )
    })
  return { run, size: () => inflight.size }
}
