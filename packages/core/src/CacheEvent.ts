/**
 * The events a cache reports: what it recovered from on its own, so nothing
 * is swallowed silently. Subscribe with `cache.events` (Effect) or
 * `cache.on(listener)` (Promise facade) and log or count them.
 *
 * @since 0.1.0
 */
import type { StoreError } from "./Errors.ts"

/**
 * Stored bytes were dropped because they did not decode, had an unknown
 * format, or did not match the value schema (an old deploy, a corrupted or
 * hostile write). The read was a miss.
 */
export interface EntryDropped {
  readonly _tag: "EntryDropped"
  readonly keyspace: string
  readonly key: string
  readonly tier: "l1" | "l2"
  readonly reason: string
}

/** A loader failed and a stale value, still inside its grace window, was served instead. */
export interface StaleServed {
  readonly _tag: "StaleServed"
  readonly keyspace: string
  readonly key: string
  readonly cause: unknown
}

/**
 * A store operation failed on a path that can go on without it (a read or
 * fill inside `getOrSet`): the cache fell back to the loader or skipped the
 * fill.
 */
export interface StoreFailed {
  readonly _tag: "StoreFailed"
  readonly keyspace: string
  readonly operation: string
  readonly error: StoreError
}

/** Every event a cache reports. */
export type CacheEvent = EntryDropped | StaleServed | StoreFailed
