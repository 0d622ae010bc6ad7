/**
 * @strata/patterns: the caching patterns of web back ends (read-through
 * repositories, write-through, write-behind, list and query caching,
 * computed values, search results, session data) as typed APIs over
 * `@strata/core`.
 *
 * @since 0.1.0
 */

export * as CacheAside from "./CacheAside.ts"
export { type CacheAsideClient, createCacheAside } from "./CacheAside.ts"
export * as Computed from "./Computed.ts"
export * as IdList from "./IdList.ts"
export { createIdList, type IdListClient } from "./IdList.ts"
export * as QueryCache from "./QueryCache.ts"
export { createQueryCache, type QueryCacheClient } from "./QueryCache.ts"
export * as Repository from "./Repository.ts"
export {
  type CreateRepositoryOptions,
  createRepository,
  InvalidLoaderResult,
  type RepositoryClient,
} from "./Repository.ts"
export * as Search from "./Search.ts"
export { createSearch, type SearchClient } from "./Search.ts"
export * as Session from "./Session.ts"
export { createSession, type SessionClient } from "./SessionClient.ts"
export * as WriteBehind from "./WriteBehind.ts"
export {
  type CreateWriteBehindOptions,
  createWriteBehind,
  type WriteBehindClient,
} from "./WriteBehindClient.ts"
export { BufferFull, FlushIncomplete, WriteBehindClosed } from "./WriteBehindErrors.ts"
export type {
  Abandoned,
  Claimed,
  EntryUnreadable,
  Flushed,
  FlushFailed,
  GroupRecreated,
  WriteBehindEvent,
} from "./WriteBehindEvent.ts"
export { WriteBehindMetrics } from "./WriteBehindEvent.ts"
export * as WriteThrough from "./WriteThrough.ts"
