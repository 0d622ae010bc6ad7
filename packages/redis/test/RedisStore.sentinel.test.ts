import { RedisStore } from "@strata/redis"
import { RedisHarness, storeConformance } from "@strata/testkit"
import { Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, openStore, read, text } from "./helpers.ts"

// A Sentinel set of this file's own: the failover test kills its master.
let set: RedisHarness.RedisSentinelSet
beforeAll(async () => {
  set = await RedisHarness.startSentinel("strata-test")
}, 60_000)
afterAll(async () => {
  await set?.stop()
})

const options = (): RedisStore.Options => ({
  redis: { sentinels: [...set.sentinelAddresses], name: set.name },
  prefix: "sentinel:",
  tombstoneMillis: 500,
})

storeConformance("redis (Sentinel)", {
  make: RedisStore.make({
    // Getters: the suite's effect is built when the file loads, the Sentinel set only in beforeAll.
    redis: {
      get sentinels() {
        return [...set.sentinelAddresses]
      },
      get name() {
        return set.name
      },
    },
    prefix: "sentinel:",
    tombstoneMillis: 500,
  }),
  clock: "live",
  tombstoneMillis: 500,
  numRuns: 200,
})

describe("RedisStore over Sentinel", () => {
  it("follows a failover: after the master is killed, Sentinel promotes the replica and the store writes to it", async () => {
    const opened = await openStore({ ...options(), commandTimeoutMillis: 300 })
    try {
      await opened.run(opened.store.set("s", "k", text("before"), 60_000))
      await set.master.kill()
      const recovered = await eventually(
        async () => Exit.isSuccess(await opened.exit(opened.store.set("s", "k", text("after"), 60_000))),
        30_000,
        200,
      )
      expect(recovered).toBe(true)
      expect(read(await opened.run(opened.store.get("s", "k")))).toBe("after")
      // Each Sentinel learns the new configuration on its own: the one asked may lag the one that failed over.
      const promoted = await eventually(
        async () =>
          String(await set.sentinels[0]!.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", set.name)).includes(
            String(set.replica.port),
          ),
        10_000,
        100,
      )
      expect(promoted).toBe(true)
    } finally {
      await opened.close()
    }
  }, 60_000)
})
