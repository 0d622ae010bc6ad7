/**
 * Running the patterns' effects for their Promise forms, the way core's
 * facade does: a success resolves, a failure rejects with the typed error
 * itself (an `Error` subclass with a `_tag`), and a Promise callback that
 * throws becomes core's `LoaderFailed` with the thrown value as `cause`.
 */
import { LoaderFailed } from "@strata/core"
import { Cause, Effect, Exit } from "effect"

/** Runs `effect`; rejects with its typed error (squashed cause), never with a wrapper. */
export const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromiseExit(effect).then((exit) => {
    if (Exit.isSuccess(exit)) return exit.value
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
