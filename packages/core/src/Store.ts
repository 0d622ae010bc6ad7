/**
 * The contract of a tier. A store keeps bytes under a key inside a *space*
 * (a keyspace id such as `user.profile:v2`, or an internal space starting
 * with `_`), each with a time to live. It knows nothing about schemas or
 * envelopes: the engine encodes and decodes, so any store can hold any
 * keyspace. Drivers (the memory tier, Redis, your own) provide the `Store`
 * service with a layer and prove themselves with the testkit's
 * `storeConformance` suite.
 *
 * @since 0.1.0
 */
import { Context, type Effect } from "effect"
import type { StoreError } from "./Errors.ts"

/**
 * Facts about a store the engine needs besides its operations. What a store
 * can do beyond the required operations is stated once, by the optional
 * operations it provides (`versioned`, `leases`), not by flags beside them.
 */
export interface Capabilities {
  /** Entries live in this process only (not shared with other processes). */
  readonly local: boolean
}

/** One write of a `setMany`. */
export interface Write {
  readonly key: string
  readonly value: Uint8Array
  /** Whole milliseconds, at least 1. */
  readonly ttlMillis: number
}

/** What a versioned read returns: the bytes (absent for a miss or a tombstone) and the key's version. */
export interface VersionedValue {
  readonly value: Uint8Array | undefined
  /**
   * The key's version: 0 when never written (or long gone); every `set`,
   * `delete`, `increment` and successful `fill` changes it to a value the key
   * has not had (a counter or a random token: only equality matters). A
   * delete leaves a tombstone that keeps a version for the store's tombstone
   * lifetime, so a fill that read the key before the delete cannot land
   * after it.
   */
  readonly version: number
}

/**
 * Versioned writes: how a cache avoids storing
 * a value it loaded before a newer write or a delete of the same key.
 */
export interface Versioned {
  /** The bytes under `key` and its version, in one round trip. */
  readonly get: (space: string, key: string) => Effect.Effect<VersionedValue, StoreError>
  /**
   * Optional: `get` as a Promise that rejects with the same typed errors
   * (`StoreUnavailable`, `Timeout`). The Promise facade's L2 read calls it
   * when spans are off, saving an Effect run per read (a fifth of an L2
   * hit's CPU time on the Redis store).
   */
  readonly getPromise?: ((space: string, key: string) => Promise<VersionedValue>) | undefined
  /** `get` for many keys, in the order given, in one round trip where the store allows it. */
  readonly getMany: (
    space: string,
    keys: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<VersionedValue>, StoreError>
  /**
   * Writes `value` only if the key's version is still `expectedVersion` (as
   * read before loading); returns whether it wrote. A write, delete or other
   * fill in between makes it a no-op.
   */
  readonly fill: (
    space: string,
    key: string,
    value: Uint8Array,
    ttlMillis: number,
    expectedVersion: number,
  ) => Effect.Effect<boolean, StoreError>
}

/** What `Leases.readOrAcquire` found: the key's bytes and version, and the lease when it was tried. */
export interface ReadOrLease {
  readonly read: VersionedValue
  readonly lease: LeaseResult | undefined
}

/** What taking a lease did. */
export type LeaseResult =
  | { readonly _tag: "Acquired"; readonly token: string }
  | { readonly _tag: "Held" }
  | { readonly _tag: "Changed" }

/**
 * Leases: at most one holder per key at a time, so one
 * process loads a cold key while the others wait for the fill.
 */
export interface Leases {
  /**
   * Takes the lease on `key` for `ttlMillis`. With `expectedVersion`, takes it
   * only if the key's version is still that one, in the same atomic step;
   * otherwise the key was written or filled since the caller read it
   * (`Changed`), and the caller should read it again instead of loading. A
   * store with `versioned` operations must check it.
   */
  readonly acquire: (
    space: string,
    key: string,
    ttlMillis: number,
    expectedVersion?: number,
  ) => Effect.Effect<LeaseResult, StoreError>
  /** Releases the lease if `token` still holds it; returns whether it did. */
  readonly release: (space: string, key: string, token: string) => Effect.Effect<boolean, StoreError>
  /**
   * Optional: extends the lease to `ttlMillis` from now if `token` still
   * holds it; returns whether it did. The cache renews the lease of a load
   * that outlives a third of it, so a slow loader is not taken over as if
   * its holder had died. Without it, a loader slower than the lease's TTL is
   * loaded again elsewhere.
   */
  readonly renew?:
    | ((space: string, key: string, token: string, ttlMillis: number) => Effect.Effect<boolean, StoreError>)
    | undefined
  /**
   * Optional: a versioned read that, when the key holds no value (absent or
   * a tombstone), also tries to take its lease, in one atomic step and one
   * round trip. `lease` is `undefined` when the key holds a value (nothing
   * was attempted). It saves a cold load a round trip; without it the cache
   * reads, then takes the lease conditionally on the version it read.
   */
  readonly readOrAcquire?:
    | ((space: string, key: string, ttlMillis: number) => Effect.Effect<ReadOrLease, StoreError>)
    | undefined
  /**
   * Optional: the holder's last step in one atomic call: the compare-and-set
   * fill (as `Versioned.fill`) and the release of its lease `token`.
   * `waited` says whether anyone found the lease held meanwhile, so the holder
   * announces the fill only when someone is waiting for it.
   */
  readonly fillAndRelease?:
    | ((
        space: string,
        key: string,
        value: Uint8Array,
        ttlMillis: number,
        expectedVersion: number,
        token: string,
      ) => Effect.Effect<{ readonly written: boolean; readonly waited: boolean }, StoreError>)
    | undefined
}

/**
 * The operations every store provides. Keys and spaces are opaque,
 * well-formed Unicode strings (the key encoding never produces a lone
 * surrogate; a server that stores keys as UTF-8 bytes could not tell two of
 * them apart); values are bytes. Returned bytes are the caller's: mutating
 * them never changes what the store holds.
 */
export interface Service {
  /** A short name for errors, events and metrics, such as `"memory"` or `"redis"`. */
  readonly name: string
  readonly capabilities: Capabilities
  /** The bytes under `key`, or `undefined` when absent or expired. */
  readonly get: (space: string, key: string) => Effect.Effect<Uint8Array | undefined, StoreError>
  /** `get` for many keys at once, in the order given; one round trip where the store allows it. */
  readonly getMany: (
    space: string,
    keys: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<Uint8Array | undefined>, StoreError>
  /** Stores `value` under `key` for `ttlMillis` milliseconds, replacing any value and TTL. */
  readonly set: (
    space: string,
    key: string,
    value: Uint8Array,
    ttlMillis: number,
  ) => Effect.Effect<void, StoreError>
  /**
   * Optional: `set` as a Promise that rejects with the same typed errors.
   * The Promise facade's `set` calls it when spans are off, saving an Effect
   * run per write.
   */
  readonly setPromise?:
    | ((space: string, key: string, value: Uint8Array, ttlMillis: number) => Promise<void>)
    | undefined
  /** `set` for many entries, each with its own TTL. */
  readonly setMany: (space: string, writes: ReadonlyArray<Write>) => Effect.Effect<void, StoreError>
  /** Removes `key`; removing an absent key succeeds. */
  readonly delete: (space: string, key: string) => Effect.Effect<void, StoreError>
  /**
   * Adds `by` to the counter under `key` in one atomic step and returns the
   * new count. An absent key starts at 0 and gets `ttlMillis`; an existing
   * counter keeps its TTL. A value that is not a decimal counter is replaced
   * (it counts from 0). Counters are stored as decimal text.
   */
  readonly increment: (
    space: string,
    key: string,
    by: number,
    ttlMillis: number,
  ) => Effect.Effect<number, StoreError>
  /** Removes every key of `space`. */
  readonly clear: (space: string) => Effect.Effect<void, StoreError>
  /**
   * Versioned reads and compare-and-set fills, or `undefined` when the store
   * cannot compare and set (the cache then cannot keep a slow load from
   * landing over a newer write in this tier; L1 is still guarded).
   */
  readonly versioned: Versioned | undefined
  /** Leases, or `undefined` when the store has none (no cross-process stampede protection). */
  readonly leases: Leases | undefined
  /**
   * Forgets what the store caches about spaces (such as the generation a
   * Redis store keys a space under) and reads it again: the cache calls it
   * when the bus says another process cleared a space, or after a gap. The
   * forgetting must happen when the effect starts, before its first
   * asynchronous step, so that a read issued right after the bus message
   * never uses what was cleared. `undefined` when the store caches nothing.
   */
  readonly refresh: ((spaces: ReadonlyArray<string> | "all") => Effect.Effect<void, StoreError>) | undefined
}

/**
 * The `Store` service: the shared tier (L2) of a cache. Provide it with a
 * driver's layer, such as `MemoryStore.layer()` or `RedisStore.layer(...)`.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const store = yield* Store
 *   yield* store.set("demo:v1", "greeting", new TextEncoder().encode("hi"), 60_000)
 * })
 * ```
 */
export class Store extends Context.Service<Store, Service>()("@strata/core/Store") {}
