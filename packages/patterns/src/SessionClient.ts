/**
 * The Promise form of session data, for code that does not use Effect:
 * `createSession(cache, Carts)` over a cache from core's `createCache`. The
 * rules are those of `Session` (sliding expiry, atomic changes, one call
 * drops a user's data); failures reject with the same typed errors
 * (`UpdateConflict`, `InvalidValue`, `LoaderFailed` when the change
 * function throws, the store's errors).
 *
 * @since 0.1.0
 */
import { Cache, type StrataCache } from "@strata/core"
import { Effect, Option } from "effect"
import { run } from "./internal/promise.ts"
import * as Session from "./Session.ts"

/** One kind of session data with a Promise API. */
export interface SessionClient<K, V> {
  /** The data under `key`, or `undefined`; a hit extends its expiry. */
  get(key: K): Promise<V | undefined>
  /**
   * Replaces the data with `f(current)` atomically and extends its expiry;
   * `f` must be pure (it may run more than once). Resolves with the data now
   * stored.
   */
  update(key: K, f: (current: V | undefined) => V): Promise<V>
  /** Removes the data under `key`. */
  remove(key: K): Promise<void>
  /** Drops every session entry of `user`, of every kind, in every process. */
  dropUser(user: string | number): Promise<void>
}

/**
 * The session data `session` declares, read and changed through `cache`.
 * Use it while the cache is open.
 *
 * @example
 * ```ts
 * const carts = createSession(cache, Carts)
 * await carts.update({ userId: 7 }, (cart) => ({ items: [...(cart?.items ?? []), "tea"] }))
 * ```
 */
export const createSession = <K, V>(
  cache: StrataCache,
  session: Session.Session<K, V>,
): SessionClient<K, V> => {
  const on = <A, E>(effect: Effect.Effect<A, E, Cache.Cache>) =>
    run(Effect.provideService(effect, Cache.Cache, cache.service))
  return {
    get: (key) => on(Session.get(session, key)).then(Option.getOrUndefined),
    update: (key, f) => on(Session.update(session, key, f)),
    remove: (key) => on(Session.remove(session, key)),
    dropUser: (user) => on(Session.dropUser(user)),
  }
}
