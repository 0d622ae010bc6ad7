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
 * What a store can do beyond the required operations. Capabilities are data,
 * not `instanceof` checks, so the engine can adapt to any driver.
 */
export interface Capabilities {
  /** Entries live in this process only (not shared with other processes). */
  readonly local: boolean
  /** Leases (`SET NX PX` with a token) for cross-process stampede protection. */
  readonly leases: boolean
  /** Versioned writes that never replace a newer version. */
  readonly compareAndSet: boolean
  /** Server-side scripts. */
  readonly scripts: boolean
}

/** One write of a `setMany`. */
export interface Write {
  readonly key: string
  readonly value: Uint8Array
  /** Whole milliseconds, at least 1. */
  readonly ttlMillis: number
}

/**
 * The operations every store provides. Keys and spaces are opaque strings;
 * values are bytes. Returned bytes are the caller's: mutating them never
 * changes what the store holds.
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
