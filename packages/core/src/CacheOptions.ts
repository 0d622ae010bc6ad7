/**
 * The options of a cache (`Cache.make`, `Cache.layer`, `createCache`) and of
 * its calls. Every number and duration is checked when the cache is built or
 * the call is made: a bad one fails with `InvalidArgument` or
 * `InvalidDuration` naming it, never a silent default. Durations take an
 * Effect duration (`"1 hour"`, `Duration.seconds(5)`) or a number of
 * milliseconds, and must stay under 2^31 ms.
 *
 * @since 0.1.0
 */
import type { Duration } from "effect"

/**
 * Per-call options of `set`. `ttl + staleFor` follows the same rule as a
 * keyspace's own: each a valid duration, their sum under 2^31 ms.
 */
export interface WriteOptions {
  /** Overrides the keyspace's `ttl` for this entry. */
  readonly ttl?: Duration.Input | undefined
  /** Overrides the keyspace's `staleFor` for this entry. */
  readonly staleFor?: Duration.Input | undefined
}

/** Per-call options of `getOrSet`: TTL overrides and loader timeouts. */
export interface LoadOptions extends WriteOptions {
  /**
   * When a stale value is at hand and this caller has waited this long (on
   * the loader, on a load already in flight, or on another process's lease),
   * serve the stale value now and let the load finish in the background.
   */
  readonly softTimeout?: Duration.Input | undefined
  /**
   * The loader is interrupted after this long and the load fails with
   * `Timeout` (or serves a stale value). The load uses the options of the
   * caller that started it; each caller's `softTimeout` bounds its own wait.
   */
  readonly hardTimeout?: Duration.Input | undefined
}

/** Bounds of the in-process tier. */
export interface L1Options {
  /** Most entries kept, a whole number ≥ 1; default 10,000. */
  readonly maxEntries?: number | undefined
  /** Most bytes kept, counted as encoded size, a whole number ≥ 1; default 64 MiB. */
  readonly maxBytes?: number | undefined
  /**
   * Longest an L1 copy stays fresh, whatever the entry's TTL. Default: none
   * with a bus (invalidations keep L1 coherent), 5 s in front of a shared
   * store without a bus (the bound on how stale another process's write can
   * leave this L1).
   */
  readonly maxTtl?: Duration.Input | undefined
  /**
   * While the bus may be missing invalidations (it reported a disconnect,
   * or has been silent past its bound), an L1 copy stored longer ago than
   * this is not served (it stays, for fail-safe reads). Default 250 ms: with
   * the Redis bus's 400 ms silence bound, nothing is served from L1 more
   * than 500 ms after a write elsewhere whose invalidation was lost.
   */
  readonly busDownMaxTtl?: Duration.Input | undefined
}

/** The options of `Cache.make`, `Cache.layer` and `createCache`. */
export interface Options {
  /** A name for metrics (`cache` attribute) and spans. Default `"default"`. */
  readonly name?: string | undefined
  /** Bounds of the in-process tier, or `false` to run without one. */
  readonly l1?: L1Options | false | undefined
  /** Largest encoded entry accepted, in bytes, a whole number ≥ 1. Default 1 MiB. */
  readonly maxEntryBytes?: number | undefined
  /**
   * Cross-process stampede protection, when the store offers leases: how long
   * a lease lasts (a holder that dies frees it after this) and how often a
   * waiter polls L2 when no `Filled` message comes. Default 5 s and 50 ms;
   * `false` turns leases off.
   */
  readonly lease?:
    | { readonly ttl?: Duration.Input | undefined; readonly pollInterval?: Duration.Input | undefined }
    | false
    | undefined
  /** Default loader timeouts, overridable per call. None by default. */
  readonly loader?:
    | { readonly softTimeout?: Duration.Input | undefined; readonly hardTimeout?: Duration.Input | undefined }
    | undefined
  /**
   * Circuit breaker on the shared tier: open after `failures` consecutive
   * failures, let one probe through after `cooldown`. Default 5 and 250 ms
   * (a short cooldown so a tier that comes back is used again within
   * 500 ms); `false` turns it off.
   */
  readonly circuitBreaker?:
    | { readonly failures?: number | undefined; readonly cooldown?: Duration.Input | undefined }
    | false
    | undefined
  /**
   * Spans around L2 and loader calls: `"auto"` (default) creates them when a
   * tracer other than Effect's built-in one is installed where the cache is
   * built (an OpenTelemetry layer, say), since spans nobody exports cost an L2
   * hit about a sixth of its throughput; `true` or `false` decides outright.
   */
  readonly spans?: "auto" | boolean | undefined
  /** How often counters are pushed into Effect metrics, in ms. Default 1,000. */
  readonly metricsIntervalMillis?: number | undefined
  /**
   * What `get` and `getMany` do when the shared tier fails or times out:
   * `"miss"` (default) answers a miss, reports a `StoreFailed` event and
   * counts it (`l2Errors`, `storeErrors`): the cache-aside rule that a cache
   * that is down never fails a request. `"fail"` fails with the store's
   * `StoreUnavailable` or `Timeout` instead.
   */
  readonly l2ReadErrors?: "miss" | "fail" | undefined
}
