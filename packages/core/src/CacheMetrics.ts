/**
 * The Effect metrics a cache reports, labelled with `cache` (the cache's
 * name). Counters are kept as plain numbers on the hot path and pushed into
 * these metrics every `metricsIntervalMillis` (and whenever `stats()` is
 * read), so an L1 hit pays no metric update.
 *
 * @since 0.1.0
 */
import { Metric } from "effect"

/** Hits, by `tier` (`l1`, `l2`). */
export const hits = Metric.counter("strata_cache_hits", {
  description: "Fresh values served, by tier",
  incremental: true,
})
/** Reads that found no fresh value. */
export const misses = Metric.counter("strata_cache_misses", {
  description: "Reads that found no fresh value",
  incremental: true,
})
/** Stale values served on a loader failure or soft timeout. */
export const staleServed = Metric.counter("strata_cache_stale_served", {
  description: "Stale values served",
  incremental: true,
})
/** Loader calls (one per single flight). */
export const loads = Metric.counter("strata_cache_loads", { description: "Loader calls", incremental: true })
/** Loader calls that failed. */
export const loadFailures = Metric.counter("strata_cache_load_failures", {
  description: "Loader calls that failed",
  incremental: true,
})
/** Callers that joined a load in flight. */
export const coalesced = Metric.counter("strata_cache_coalesced", {
  description: "Callers that joined a load in flight",
  incremental: true,
})
/** Bus messages, by `direction` (`in`, `out`). */
export const busMessages = Metric.counter("strata_cache_bus_messages", {
  description: "Bus messages",
  incremental: true,
})
/** Gaps the bus reported. */
export const gaps = Metric.counter("strata_cache_gaps", { description: "Bus gaps", incremental: true })
/** L1 entries dropped because of gaps. */
export const gapDrops = Metric.counter("strata_cache_gap_l1_drops", {
  description: "L1 entries dropped on gaps",
  incremental: true,
})
/** Shared-tier calls that failed or timed out. */
export const l2Errors = Metric.counter("strata_cache_l2_errors", {
  description: "Shared tier errors",
  incremental: true,
})
/** Stored entries dropped because they did not decode or match the schema. */
export const entriesDropped = Metric.counter("strata_cache_entries_dropped", {
  description: "Stored entries dropped as unreadable",
  incremental: true,
})
/** Store failures recovered from (a read answered as a miss, a fill skipped). */
export const storeErrors = Metric.counter("strata_cache_store_errors_recovered", {
  description: "Store failures the cache recovered from",
  incremental: true,
})
/** Fills not stored in L1 because an invalidation arrived while they were in flight. */
export const voidedFills = Metric.counter("strata_cache_voided_fills", {
  description: "Fills voided by an invalidation in flight",
  incremental: true,
})
/** Loads that waited for another process's lease instead of calling the loader. */
export const leaseWaits = Metric.counter("strata_cache_lease_waits", {
  description: "Loads that waited for another process's lease",
  incremental: true,
})
/** Event listeners that threw (each is isolated and logged). */
export const listenerErrors = Metric.counter("strata_cache_listener_errors", {
  description: "Event listeners that threw",
  incremental: true,
})
/** Circuit breaker state: 0 closed, 1 half-open, 2 open. */
export const circuitState = Metric.gauge("strata_cache_circuit_state", {
  description: "0 closed, 1 half-open, 2 open",
})
/** Entries in L1. */
export const l1Entries = Metric.gauge("strata_cache_l1_entries", { description: "Entries in L1" })

/** Histogram boundaries in ms: 1, 2, 4, ... 32,768 (about 33 s), then +Inf. */
const millisBoundaries = Metric.exponentialBoundaries({ start: 1, factor: 2, count: 16 })

/** Loader calls that succeeded, by how long they took (ms). */
export const loaderDuration = Metric.histogram("strata_cache_loader_duration_ms", {
  description: "Time a successful loader call took, in ms",
  boundaries: millisBoundaries,
})
/** Stale values served, by how long past their freshness they were (ms). */
export const staleAge = Metric.histogram("strata_cache_stale_age_ms", {
  description: "How long past its TTL a served stale value was, in ms",
  boundaries: millisBoundaries,
})
/**
 * Bus messages received, by the time from the sender's publish to this
 * process's receipt (ms, wall clocks: across hosts it includes their skew).
 * Recorded by the bus (`bus` attribute: its channel).
 */
export const busLag = Metric.histogram("strata_bus_lag_ms", {
  description: "Publish to receipt of a bus message, in ms (sender and receiver wall clocks)",
  boundaries: millisBoundaries,
})
/** Background reloads started by probabilistic early refresh (`earlyRefresh`). */
export const earlyRefreshes = Metric.counter("strata_cache_early_refreshes", {
  description: "Early refreshes started before expiry",
  incremental: true,
})
