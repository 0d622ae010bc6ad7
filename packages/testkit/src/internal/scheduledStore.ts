/**
 * The store as one simulated node sees it: every call reaches the real
 * store, and its reply comes back, at points of the scheduler's choosing.
 */
import { type Store, StoreUnavailable } from "@strata/core"
import { Effect } from "effect"

/** What the wrapper needs from its simulation. */
export interface Hooks {
  /** A point the scheduler releases when it chooses. */
  readonly point: (label: string) => Effect.Effect<void>
  /** Offer leases (or hide them, to show what they are for). */
  readonly leases: boolean
  /** Decides, per delete, whether it fails instead of reaching the store. */
  readonly failDeletes: Iterator<boolean> | undefined
  /** Calls released by the scheduler and not returned yet (shared by the nodes of a simulation). */
  readonly calls: { inFlight: number }
  /** A delete of `key` reached the store and succeeded. */
  readonly deleted: (key: string) => void
}

/** Wraps `inner` so the scheduler decides when each call is issued and when its reply is seen. */
export const scheduledStore = (inner: Store.Service, hooks: Hooks): Store.Service => {
  const { point, calls, failDeletes } = hooks
  const around = <A, E>(label: string, effect: Effect.Effect<A, E>) =>
    point(`${label} →`).pipe(
      Effect.andThen(
        Effect.suspend(() => {
          calls.inFlight++
          return Effect.ensuring(
            effect,
            Effect.sync(() => {
              calls.inFlight--
            }),
          )
        }),
      ),
      Effect.tap(() => point(`${label} ←`)),
    )
  return {
    ...inner,
    capabilities: { ...inner.capabilities, local: false },
    get: (space, key) => around(`get ${key}`, inner.get(space, key)),
    getMany: (space, keys) => around("getMany", inner.getMany(space, keys)),
    set: (space, key, value, ttl) => around(`set ${key}`, inner.set(space, key, value, ttl)),
    setMany: (space, writes) => around("setMany", inner.setMany(space, writes)),
    delete: (space, key) =>
      around(
        `delete ${key}`,
        Effect.suspend(() =>
          failDeletes?.next().value === true
            ? Effect.fail(
                new StoreUnavailable({
                  store: "sim",
                  operation: "delete",
                  reason: "unreachable",
                  message: "injected failure",
                }),
              )
            : inner.delete(space, key).pipe(Effect.tap(() => Effect.sync(() => hooks.deleted(key)))),
        ),
      ),
    increment: (space, key, by, ttl) => around(`increment ${key}`, inner.increment(space, key, by, ttl)),
    clear: (space) => around("clear", inner.clear(space)),
    versioned:
      inner.versioned === undefined
        ? undefined
        : {
            get: (space, key) => around(`vget ${key}`, inner.versioned!.get(space, key)),
            getMany: (space, keys) => around("vgetMany", inner.versioned!.getMany(space, keys)),
            fill: (space, key, value, ttl, expected) =>
              around(`fill ${key}@${expected}`, inner.versioned!.fill(space, key, value, ttl, expected)),
          },
    leases:
      !hooks.leases || inner.leases === undefined
        ? undefined
        : {
            // The expected version passes through: the engine's leases are conditional on it.
            acquire: (space, key, ttl, expected) =>
              around(`lease ${key}`, inner.leases!.acquire(space, key, ttl, expected)),
            release: (space, key, token) =>
              around(`release ${key}`, inner.leases!.release(space, key, token)),
          },
  }
}
