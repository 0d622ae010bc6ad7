/**
 * `@strata/testkit/servers`: the Redis process harness, the fault proxy and
 * worker processes alone, without the test-runner parts of the testkit (for
 * benchmarks and scripts that start servers and processes but run no tests).
 *
 * @since 0.1.0
 */
export * as FaultProxy from "./FaultProxy.ts"
export * as RedisHarness from "./RedisHarness.ts"
export * as WorkerProcess from "./WorkerProcess.ts"
