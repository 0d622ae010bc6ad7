/**
 * Running the patterns' effects for their Promise forms, the way core's
 * facade does: a success resolves, a failure rejects with the typed error
 * itself (an `Error` subclass with a `_tag`), and a Promise callback that
 * throws becomes core's `LoaderFailed` with the thrown value as `cause`.
 */
import { CacheClosed, LoaderFailed } from "@strata/core"
import { Cause, Effect, Exit, Scope } from "effect"

/**
 * Runs `effect`; rejects with its typed error (squashed cause), never with a wrapper. Work interrupted
 * and nothing else is the cache's scope closing under it: core's `CacheClosed`, as the facade says.
 */
export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromiseExit(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
    if (Cause.hasInterruptsOnly(exit.cause))
      throw new CacheClosed({
        message: "the cache was closed; create a new one to go on reading and writing",
      })
    throw Cause.squash(exit.cause)
  })

/** A Promise (or plain) function as an effect; what it throws or rejects with is `LoaderFailed`. */
export const fromPromise =
  <A, B>(keyspace: string, f: (input: A) => B | PromiseLike<B>) =>
  (input: A): Effect.Effect<B, LoaderFailed> =>
    Effect.tryPromise({
      try: async () => f(input),
      catch: (cause) => new LoaderFailed({ keyspace, cause }),
    })

/**
 * Starts a writer the Promise forms own: `make` runs in a scope of its own
 * (closed at once if it fails), and `close` runs the writer's own `close`,
 * then closes that scope whatever it answered.
 */
export const startScoped = async <W extends { readonly close: Effect.Effect<void, unknown> }, E>(
  make: Effect.Effect<W, E, Scope.Scope>,
): Promise<{ readonly writer: W; readonly close: () => Promise<void> }> => {
  const scope = Effect.runSync(Scope.make())
  const closeScope = () => Effect.runPromise(Scope.close(scope, Exit.void))
  const writer = await run(Scope.provide(make, scope)).catch(async (error) => {
    await closeScope()
    throw error
  })
  const close = async () => {
    try {
      await run(writer.close)
    } finally {
      await closeScope()
    }
  }
  return { writer, close }
}
