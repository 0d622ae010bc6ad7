import { RedisHarness } from "@strata/testkit"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    /** A real redis-server on a free loopback port, started for this run. */
    redisUrl: string
  }
}

/** Starts one redis-server for the suites that share a tier across caches; stops it when the run ends. */
export default async function setup(project: TestProject) {
  const server = await RedisHarness.startRedis()
  project.provide("redisUrl", server.url)
  return async () => {
    await RedisHarness.stopAll([server])
  }
}
