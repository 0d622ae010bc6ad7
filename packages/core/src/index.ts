/**
 * @strata/core: typed keyspaces, key encoding, entries, the Store and Bus
 * contracts, the memory tier, the cache engine and its Promise facade.
 *
 * @since 0.1.0
 */
export * as Argument from "./Argument.ts"
export * as Bus from "./Bus.ts"
export * as Cache from "./Cache.ts"
export type {
  BusFailed,
  BusGap,
  BusMessageDropped,
  CacheEvent,
  CircuitChanged,
  EntryDropped,
  StaleServed,
  StoreFailed,
} from "./CacheEvent.ts"
export * as CacheMetrics from "./CacheMetrics.ts"
export * as Entry from "./Entry.ts"
export * from "./Errors.ts"
export * as Facade from "./Facade.ts"
export { type CounterClient, createCache, type KeyspaceClient, type StrataCache } from "./Facade.ts"
export type { LogMethod, OtlpOptions, PinoLike } from "./FacadeObservability.ts"
export * as KeyEncoding from "./KeyEncoding.ts"
export * as Keyspace from "./Keyspace.ts"
export * as MemoryBus from "./MemoryBus.ts"
export * as MemoryStore from "./MemoryStore.ts"
export * as Msgpack from "./Msgpack.ts"
export * as SingleFlight from "./SingleFlight.ts"
export * as Store from "./Store.ts"
