/**
 * @strata/testkit: what tests of Strata and of its drivers share: fast-check
 * arbitraries, the Store conformance suite and the cache model.
 *
 * @since 0.1.0
 */
export * as Arbitraries from "./Arbitraries.ts"
export { type BusUnderTest, busConformance } from "./BusConformance.ts"
export { type CacheUnderTest, cacheModel } from "./CacheModel.ts"
export * as ConsistencyProperties from "./ConsistencyProperties.ts"
export * as ConsistencySim from "./ConsistencySim.ts"
export * as FaultProxy from "./FaultProxy.ts"
export * as RedisHarness from "./RedisHarness.ts"
export { type StoreUnderTest, storeConformance } from "./StoreConformance.ts"
export { type TieredTiers, type TieredUnderTest, tieredModel } from "./TieredModel.ts"
