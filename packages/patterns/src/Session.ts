/**
 * Session data: per-user state (a cart, a wizard's progress, preferences)
 * kept in the cache with **sliding expiry** (every read and every change
 * keeps it alive for another idle timeout), changed **atomically** (two
 * requests of one user changing the cart at once never lose one another's
 * change), and **dropped together** for a user (logout, account deletion)
 * through a tag every session entry of that user carries.
 *
 * Built on core's `update` (compare-and-set on the shared tier, retried on
 * conflict, `UpdateConflict` after repeated conflicts): every access is a
 * versioned write, so a read that extends the expiry can never overwrite a
 * change made at the same moment. The shared tier must offer versioned
 * operations (the Redis store and the memory store do); an L1-only cache
 * works within one process.
 *
 * @since 0.1.0
 */
import {
  Cache,
  type CacheClosed,
  type InvalidArgument,
  type InvalidKey,
  Keyspace,
  LoaderFailed,
  type StoreError,
} from "@strata/core"
import { type Duration, Effect, Option, Schema } from "effect"

/** The tag every session entry of `user` carries: `strata.session.user:<user>`. */
export const userTag = (user: string | number): string => `strata.session.user:${String(user)}`

/** What is stored: the session's data and when it was last accessed (wall-clock ms). */
export interface Stored<V> {
  readonly data: V
  readonly touched: number
}

/** A declared kind of session data, made by {@link make}. */
export interface Session<K, V> {
  /** The keyspace the entries live in (value: `{ data, touched }`). */
  readonly keyspace: Keyspace.Keyspace<K, Stored<V>>
  /** Whose data a key holds, for {@link dropUser}. */
  readonly userOf: (key: K) => string | number
}

/** The options of {@link make}. */
export interface Options<KS extends Keyspace.AnySchema, VS extends Keyspace.AnySchema> {
  /** The keyspace name, `[a-z0-9][a-z0-9._-]*` (see `Keyspace.make`). */
  readonly name: string
  /** Schema of the key, such as `Schema.Struct({ userId: Schema.Int })`. */
  readonly key: KS
  /** Schema of the session data. */
  readonly value: VS
  /**
   * How long data lives after its last access (read or change): an Effect
   * duration such as `"30 minutes"` or a number of ms, under 2^31 ms.
   */
  readonly idleTimeout: Duration.Input
  /** The user a key belongs to: all of a user's session entries are dropped together by {@link dropUser}. */
  readonly user: (key: KS["Type"]) => string | number
  /** Format version of the data, a positive integer (bump on an incompatible change). Default 1. */
  readonly version?: number | undefined
  /** Redis Cluster hash tag, as in `Keyspace.make`. */
  readonly hashTag?: "keyspace" | ((key: KS["Type"]) => string | number) | undefined
}

/**
 * Declares a kind of session data. Throws `InvalidKeyspace` for a bad name,
 * version or idle timeout (as `Keyspace.make` does), so a wrong declaration
 * fails when its module loads.
 *
 * @example
 * ```ts
 * const Carts = Session.make({
 *   name: "session.cart",
 *   key: Schema.Struct({ userId: Schema.Int }),
 *   value: Schema.Struct({ items: Schema.Record(Schema.String, Schema.Int) }),
 *   idleTimeout: "30 minutes",
 *   user: ({ userId }) => userId,
 * })
 * ```
 */
export const make = <KS extends Keyspace.AnySchema, VS extends Keyspace.AnySchema>(
  options: Options<KS, VS>,
): Session<KS["Type"], VS["Type"]> => {
  const user = options.user
  const keyspace = Keyspace.make({
    name: options.name,
    key: options.key,
    value: Schema.Struct({ data: options.value, touched: Schema.Number }),
    ttl: options.idleTimeout,
    tags: (key: KS["Type"]) => [userTag(user(key))],
    version: options.version,
    hashTag: options.hashTag,
  })
  return { keyspace: keyspace as Keyspace.Keyspace<KS["Type"], Stored<VS["Type"]>>, userOf: user }
}

/** The failures of a session access. */
export type AccessError = Cache.UpdateError

/** Thrown inside `update`'s function to stop a read of a session that does not exist; never escapes. */
const NoSession: unique symbol = Symbol("strata.session.none")

/**
 * The data under `key`, or `None`; a hit extends its expiry by the idle
 * timeout (an atomic write: a change made at the same moment is kept).
 * Fails with `UpdateConflict` under extreme contention on the key, and with
 * the store's errors.
 */
export const get = <K, V>(
  session: Session<K, V>,
  key: NoInfer<K>,
): Effect.Effect<Option.Option<V>, AccessError, Cache.Cache> =>
  Effect.gen(function* () {
    const cache = yield* Cache.Cache
    return yield* cache
      .update(session.keyspace, key, (current) => {
        if (current === undefined) throw NoSession
        return { data: current.data, touched: Date.now() }
      })
      .pipe(
        Effect.map((stored) => Option.some(stored.data)),
        Effect.catchIf(
          (error): error is LoaderFailed => error instanceof LoaderFailed && error.cause === NoSession,
          () => Effect.succeed(Option.none<V>()),
        ),
      )
  })

/**
 * Replaces the data under `key` with `f(current)` atomically (`current` is
 * `undefined` when there is none) and extends its expiry; returns the data
 * now stored. Concurrent changes, from this process or others, are never
 * lost: on a conflict `f` runs again on the newer data, so it must be pure
 * and may run more than once. Fails with `LoaderFailed` when `f` throws,
 * `InvalidValue` when its result does not match the schema (nothing is
 * written), `UpdateConflict` after repeated conflicts.
 *
 * @example
 * ```ts
 * const addItem = (userId: number, sku: string) =>
 *   Session.update(Carts, { userId }, (cart) => ({
 *     items: { ...cart?.items, [sku]: (cart?.items[sku] ?? 0) + 1 },
 *   }))
 * ```
 */
export const update = <K, V>(
  session: Session<K, V>,
  key: NoInfer<K>,
  f: (current: V | undefined) => V,
): Effect.Effect<V, AccessError, Cache.Cache> =>
  Effect.gen(function* () {
    const cache = yield* Cache.Cache
    const stored = yield* cache.update(session.keyspace, key, (current) => ({
      data: f(current?.data),
      touched: Date.now(),
    }))
    return stored.data
  })

/** Removes the data under `key` (in every process). */
export const remove = <K, V>(
  session: Session<K, V>,
  key: NoInfer<K>,
): Effect.Effect<void, InvalidKey | StoreError | CacheClosed, Cache.Cache> =>
  Effect.gen(function* () {
    const cache = yield* Cache.Cache
    yield* cache.delete(session.keyspace, key)
  })

/**
 * Drops every session entry of `user`, of every kind declared with
 * {@link make}, in every process (one tag invalidation: O(1), no scan).
 */
export const dropUser = (
  user: string | number,
): Effect.Effect<void, InvalidArgument | StoreError | CacheClosed, Cache.Cache> =>
  Effect.gen(function* () {
    const cache = yield* Cache.Cache
    yield* cache.invalidateTag(userTag(user))
  })
