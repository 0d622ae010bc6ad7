import { RedisHarness } from "@strata/testkit"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    /** A shared standalone server for suites that inject no faults (or REDIS_URL when set). */
    redisUrl: string
    /** A shared 3-master Cluster for suites that inject no faults. */
    clusterNodes: ReadonlyArray<{ host: string; port: number }>
  }
}

/**
 * Starts the servers that suites share: one standalone Redis (unless
 * REDIS_URL points at one) and one 3-master Cluster. Suites that inject
 * faults start their own. Everything stops when the run ends.
 */
export default async function setup(project: TestProject) {
  const standalone = process.env.REDIS_URL === undefined ? await RedisHarness.startRedis() : undefined
  const cluster = await RedisHarness.startCluster(3)
  project.provide("redisUrl", process.env.REDIS_URL ?? standalone!.url)
  project.provide("clusterNodes", cluster.startupNodes)
  return async () => {
    await cluster.stop()
    if (standalone !== undefined) await RedisHarness.stopAll([standalone])
  }
}
