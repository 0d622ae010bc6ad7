import { randomUUID } from "node:crypto"
import { type Store, type StoreError, StoreUnavailable } from "@strata/core"
import { Effect } from "effect"
import { type Client, isAccessError, toStoreError } from "./connection.ts"

/** A `StoreUnavailable` for a failure to start the store. */
export const startupFailure = (operation: string, message: string, cause?: unknown) =>
  new StoreUnavailable({
    store: "redis",
    operation,
    reason: "startup",
    message,
    ...(cause === undefined ? {} : { cause }),
  })

/** Connects, waiting for `ready`; fails at once on bad credentials, and after `timeoutMillis` otherwise. */
export const connect = (client: Client, timeoutMillis: number) =>
  Effect.tryPromise({
    try: () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`could not connect to Redis within ${timeoutMillis} ms (${client.status})`)),
          timeoutMillis,
        )
        const onError = (error: Error) => {
          if (!isAccessError(error)) return
          clearTimeout(timer)
          reject(error)
        }
        client.on("error", onError)
        client.connect().then(
          () => {
            clearTimeout(timer)
            client.off("error", onError)
            resolve()
          },
          (error: unknown) => {
            clearTimeout(timer)
            client.off("error", onError)
            reject(error)
          },
        )
      }),
    catch: (cause) => {
      client.disconnect()
      const message = cause instanceof Error ? cause.message : String(cause)
      return startupFailure(
        "connect",
        isAccessError(cause) ? `Redis refused the credentials: ${message}` : message,
        cause,
      )
    },
  })

/**
 * Reads the server clock, then runs each kind of command the store uses
 * once, on a throwaway key under the prefix, so a missing ACL permission is a clear startup error naming
 * what to grant instead of a failure on the first request.
 */
export const probe = (
  store: Store.Service,
  client: Client,
  prefix: string,
  syncClock: Effect.Effect<void, StoreError>,
): Effect.Effect<string, StoreError> => {
  const space = `_probe.${randomUUID()}`
  const bytes = new Uint8Array([1])
  return Effect.gen(function* () {
    yield* syncClock
    yield* store.set(space, "k", bytes, 1_000)
    yield* store.getMany(space, ["k", "j"])
    yield* store.versioned!.get(space, "k")
    yield* store.versioned!.fill(space, "k", bytes, 1_000, 0)
    yield* store.increment(space, "n", 1, 1_000)
    yield* store.delete(space, "k")
    const lease = yield* store.leases!.acquire(space, "k", 1_000, 0)
    if (lease._tag === "Acquired") yield* store.leases!.release(space, "k", lease.token)
    yield* store.clear(space)
    yield* Effect.tryPromise({
      try: () => client.del(`${prefix}${space}:meta:gen`),
      catch: toStoreError("probe", 0),
    })
    return space
  }).pipe(
    Effect.mapError((error) =>
      error._tag === "StoreUnavailable" && isAccessError(error.cause)
        ? startupFailure(
            "startup",
            `The Redis user lacks a permission Strata needs (${error.message}). Grant it, for example: ACL SETUSER <user> on ~${prefix}* +@read +@write +@scripting +ping +time`,
            error,
          )
        : error,
    ),
  )
}
