/**
 * `@strata/testkit/servers`: the Redis process harness and the fault proxy
 * alone, without the test-runner parts of the testkit (for benchmarks and
 * scripts that start servers but run no tests).
 *
 * @since 0.1.0
 */
export * as FaultProxy from "./FaultProxy.ts"
export * as RedisHarness from "./RedisHarness.ts"
