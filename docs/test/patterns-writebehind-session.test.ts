import { RedisHarness } from "@strata/testkit/servers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Session from "../samples/patterns/session.ts"
import * as WriteBehind from "../samples/patterns/write-behind.ts"
import * as WriteBehindDurable from "../samples/patterns/write-behind-durable.ts"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

describe("write-behind and session samples", () => {
  it("write-behind: counters summed, the last write wins, pending writes read back, a failed flush retried", async () => {
    expect(await WriteBehind.main()).toEqual({
      pending: 1_700_000_060_000,
      views: { "/caching": 334, "/effect": 666 },
      lastSeen: 1_700_000_060_000,
      failedFlushes: true,
    })
  })

  it("durable write-behind: its own write read back, flushed from the stream, and a replay of the same version changes nothing", async () => {
    expect(await WriteBehindDurable.main(server.url)).toEqual({
      seen: 1_700_000_060_000,
      pendingAfterFlush: false,
      lastSeen: 1_700_000_060_000,
      ignored: 1,
      stats: 1,
    })
  })

  it("session: two processes' concurrent changes both kept, the user's data dropped at logout", async () => {
    expect(await Session.main(server.url)).toEqual({
      cart: { items: { tea: 1, cup: 1 } },
      afterLogout: undefined,
      recentGone: true,
    })
  })
})
