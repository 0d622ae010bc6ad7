import type { StoreError } from "@strata/core"
import { RedisStore } from "@strata/redis"
import { Effect, Exit, Scope } from "effect"

/** A Redis store opened outside Effect, for tests that drive faults between calls. */
export interface OpenStore {
  readonly store: RedisStore.Service
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  /** Runs and returns the exit, for asserting on typed failures. */
  readonly exit: <A, E>(effect: Effect.Effect<A, E>) => Promise<Exit.Exit<A, E>>
  readonly close: () => Promise<void>
}

export const openStore = async (options: RedisStore.Options): Promise<OpenStore> => {
  const scope = Effect.runSync(Scope.make())
  // A loaded CI machine can take seconds to finish a handshake: connecting is not what these tests measure.
  const withTime = { connectTimeoutMillis: 20_000, ...options }
  const store = await Effect.runPromise(Scope.provide(RedisStore.make(withTime), scope))
  return {
    store,
    run: (effect) => Effect.runPromise(effect),
    exit: (effect) => Effect.runPromiseExit(effect),
    close: () => Effect.runPromise(Scope.close(scope, Exit.void)),
  }
}

/** The `_tag` of a failed exit's error, or "success". */
export const failureTag = (exit: Exit.Exit<unknown, StoreError | unknown>): string => {
  if (Exit.isSuccess(exit)) return "success"
  const failure = exit.cause.reasons.find((r) => r._tag === "Fail") as
    | { error?: { _tag?: string } }
    | undefined
  return failure?.error?._tag ?? "defect"
}

/** Polls `check` until it returns true or `millis` pass. */
export const eventually = async (
  check: () => Promise<boolean>,
  millis = 10_000,
  every = 50,
): Promise<boolean> => {
  const deadline = Date.now() + millis
  for (;;) {
    if (await check().catch(() => false)) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, every))
  }
}

export const text = (s: string) => new TextEncoder().encode(s)
export const read = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)
