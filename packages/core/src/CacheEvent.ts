/**
 * The events a cache reports: what it recovered from on its own, so nothing
 * is swallowed silently. Subscribe with `cache.events` (Effect) or
 * `cache.onEvent(listener)` / `cache.on(listener)` (Promise facade) and log
 * or count them.
 *
 * @since 0.1.0
 */
import type { BusUnavailable, StoreError } from "./Errors.ts"

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

/**
 * A stale value, still inside its grace window, was served instead of
 * waiting for or failing with the loader: `"loader failed"` or `"soft timeout"`
 * (the load goes on in the background and fills the cache when it ends).
 */
export interface StaleServed {
  readonly _tag: "StaleServed"
  readonly keyspace: string
  readonly key: string
  readonly reason: "loader failed" | "soft timeout"
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

/** An invalidation could not be handed to the bus; other processes see the change when their L1 copies expire. */
export interface BusFailed {
  readonly _tag: "BusFailed"
  readonly error: BusUnavailable
}

/** The bus reported a gap (lost delivery): L1 was dropped, and is capped while the bus is down. */
export interface BusGap {
  readonly _tag: "BusGap"
  readonly reason: string
  readonly connected: boolean
  /** L1 entries dropped because of this gap. */
  readonly dropped: number
}

/** A bus message could not be read and was dropped. */
export interface BusMessageDropped {
  readonly _tag: "BusMessageDropped"
  readonly reason: string
}

/** The shared tier's circuit breaker changed state. */
export interface CircuitChanged {
  readonly _tag: "CircuitChanged"
  readonly state: "closed" | "open" | "half-open"
}

/** Every event a cache reports. */
export type CacheEvent =
  | EntryDropped
  | StaleServed
  | StoreFailed
  | BusFailed
  | BusGap
  | BusMessageDropped
  | CircuitChanged
