import { BufferFull, createWriteBehind, FlushIncomplete, type WriteBehindEvent } from "@strata/patterns"
import { describe, expect, it } from "vitest"
import { LastSeen, Views } from "./fixtures.ts"

describe("createWriteBehind: the Promise form", () => {
  it("buffers, reads pending writes back, retries a rejected flush and drains on close", async () => {
    const rows = new Map<number, number>()
    let rejections = 1
    const writer = await createWriteBehind({
      keyspace: LastSeen,
      flush: async (batch) => {
        if (rejections-- > 0) throw new Error("database down")
        for (const write of batch) rows.set(write.key, write.value)
      },
      flushIntervalMillis: 10,
      retryInitialMillis: 10,
    })
    const seen: Array<WriteBehindEvent["_tag"]> = []
    writer.on((event) => seen.push(event._tag))
    await writer.set(1, 10)
    await writer.set(1, 11)
    expect(await writer.get(1)).toBe(11)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await writer.close()
    expect(rows).toEqual(new Map([[1, 11]]))
    expect(seen).toContain("FlushFailed")
    await expect(writer.set(2, 2)).rejects.toMatchObject({ _tag: "WriteBehindClosed" })
  })

  it("rejects with the typed errors: BufferFull, InvalidArgument, FlushIncomplete", async () => {
    await expect(createWriteBehind({ keyspace: Views, flush: () => {}, maxBatch: 0 })).rejects.toMatchObject({
      _tag: "InvalidArgument",
      argument: "maxBatch",
    })
    const views = await createWriteBehind({
      keyspace: Views,
      flush: () => Promise.reject(new Error("down")),
      maxPending: 1,
      closeTimeoutMillis: 50,
    })
    expect(await views.increment("/a", 2)).toBe(2)
    await expect(views.increment("/b")).rejects.toBeInstanceOf(BufferFull)
    const closing = await views.close().catch((error: unknown) => error)
    expect(closing).toBeInstanceOf(FlushIncomplete)
    expect((closing as FlushIncomplete).remaining).toBe(1)
  })
})
