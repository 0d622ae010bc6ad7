/**
 * @strata/patterns: the caching patterns of web back ends (read-through
 * repositories, write-through, write-behind, list and query caching,
 * computed values, search results, session data) as typed APIs over
 * `@strata/core`.
 *
 * @since 0.1.0
 */

export * as Session from "./Session.ts"
export * as WriteBehind from "./WriteBehind.ts"
export { BufferFull, FlushIncomplete, WriteBehindClosed } from "./WriteBehindErrors.ts"
export type {
  Abandoned,
  Claimed,
  EntryUnreadable,
  Flushed,
  FlushFailed,
  WriteBehindEvent,
} from "./WriteBehindEvent.ts"
export { WriteBehindMetrics } from "./WriteBehindEvent.ts"
