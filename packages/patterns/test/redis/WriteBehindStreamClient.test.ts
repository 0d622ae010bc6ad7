import { createWriteBehindStream, type WriteBehindStream } from "@strata/patterns/redis"
import { RedisHarness } from "@strata/testkit"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LastSeen } from "../fixtures.ts"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

describe("createWriteBehindStream: the Promise form", () => {
  it("appends durably, flushes with versions, and rejects with typed errors", async () => {
    const flushed: Array<WriteBehindStream.StreamWrite<number, number>> = []
    const writer = await createWriteBehindStream({
      redis: { url: server.url, commandTimeoutMillis: 5_000 },
      keyspace: LastSeen,
      stream: "client-test:log",
      flushIntervalMillis: 20,
      flush: async (batch) => {
        flushed.push(...batch)
      },
    })
    const version = await writer.set(3, 30)
    await expect(writer.set(3, "x" as unknown as number)).rejects.toMatchObject({ _tag: "InvalidValue" })
    const deadline = Date.now() + 10_000
    while (flushed.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    await writer.close()
    expect(flushed.map((w) => [w.key, w.value, w.version])).toEqual([[3, 30, version]])
    await expect(
      createWriteBehindStream({
        redis: { url: server.url, commandTimeoutMillis: 5_000 },
        keyspace: LastSeen,
        flush: () => {},
        maxBatch: 0,
      }),
    ).rejects.toMatchObject({ _tag: "InvalidArgument" })
  })

  it("get resolves with this writer's pending value, and undefined once it is flushed", async () => {
    let failing = true
    const rows = new Map<number, number>()
    const writer = await createWriteBehindStream({
      redis: { url: server.url, commandTimeoutMillis: 5_000 },
      keyspace: LastSeen,
      stream: "client-test:get",
      flushIntervalMillis: 10,
      retryInitialMillis: 10,
      retryMaxMillis: 20,
      flush: async (batch) => {
        if (failing) throw new Error("database down")
        for (const w of batch) rows.set(w.key, w.value)
      },
    })
    try {
      expect(await writer.get(4)).toBeUndefined()
      await writer.set(4, 40)
      await writer.set(4, 41)
      expect(await writer.get(4)).toBe(41)
      await expect(writer.get(0.5)).rejects.toMatchObject({ _tag: "InvalidKey" })
      failing = false
      const deadline = Date.now() + 10_000
      while (writer.stats().flushedEntries < 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10))
      expect(rows).toEqual(new Map([[4, 41]]))
      expect(await writer.get(4)).toBeUndefined()
      expect(writer.stats().pending).toBe(0)
    } finally {
      await writer.close()
    }
  })
})
