/**
 * The durable writer recovers when its stream key disappears (Redis
 * restarted without persistence, FLUSHALL, an operator's DEL) or its group
 * is destroyed: it recreates the consumer group at the start of the stream
 * and goes on, and a `set` either wrote its entry and resolved, or rejected
 * having written nothing.
 */
import type { WriteBehindEvent } from "@strata/patterns"
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

let streams = 0
type Batch = ReadonlyArray<WriteBehindStream.StreamWrite<number, number>>

/** A source applying each write above the version it stored; it fails while `failing` is set. */
const versionedSource = () => {
  const rows = new Map<number, { value: number; version: string }>()
  const state = { failing: false }
  const flush = async (batch: Batch) => {
    if (state.failing) throw new Error("source down")
    for (const w of batch) {
      const row = rows.get(w.key)
      if (row === undefined || row.version < w.version)
        rows.set(w.key, { value: w.value, version: w.version })
    }
  }
  return { rows, state, flush, value: (key: number) => rows.get(key)?.value }
}

const start = (source: ReturnType<typeof versionedSource>, stream = `wb-recovery:${++streams}`) =>
  createWriteBehindStream({
    redis: { url: server.url, commandTimeoutMillis: 5_000 },
    keyspace: LastSeen,
    stream,
    flushIntervalMillis: 50,
    retryInitialMillis: 20,
    retryMaxMillis: 50,
    closeTimeoutMillis: 3_000,
    flush: source.flush,
  })

const waitFor = async (check: () => boolean | Promise<boolean>, millis = 10_000) => {
  const deadline = Date.now() + millis
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time")
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Entries ever appended to the stream (trimming does not lower it; a new stream starts at 0). */
const added = async (stream: string) => {
  const reply = await server.command("XINFO", "STREAM", stream)
  return Number(/entries-added\r\n:(\d+)/.exec(reply)?.[1] ?? 0)
}

/** Each set's outcome and how many entries it appended. */
const setAll = async (
  writer: Awaited<ReturnType<typeof start>>,
  stream: string,
  writes: ReadonlyArray<readonly [number, number]>,
) => {
  const outcomes: Array<{ ok: boolean; error?: string; grew: number }> = []
  for (const [key, value] of writes) {
    const before = await added(stream)
    const outcome = await writer.set(key, value).then(
      () => ({ ok: true }),
      (error: { _tag?: string; message?: string }) => ({
        ok: false,
        error: `${error._tag}: ${error.message}`,
      }),
    )
    outcomes.push({ ...outcome, grew: (await added(stream)) - before })
  }
  return outcomes
}

describe("WriteBehindStream: the stream or its group disappears", () => {
  it("a stream deleted under a running writer: every later set writes one entry and resolves, the group is recreated, everything is flushed", async () => {
    const source = versionedSource()
    const stream = `wb-recovery:${++streams}`
    const writer = await start(source, stream)
    const events: Array<WriteBehindEvent> = []
    writer.on((event) => events.push(event))
    try {
      await writer.set(1, 1)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(source.value(1)).toBe(1)
      await server.command("DEL", stream)
      const outcomes = await setAll(writer, stream, [
        [2, 20],
        [2, 21],
        [2, 22],
      ])
      // Rejected means nothing written: a set that wrote its entry resolves.
      expect(outcomes).toEqual([
        { ok: true, grew: 1 },
        { ok: true, grew: 1 },
        { ok: true, grew: 1 },
      ])
      await waitFor(() => source.value(2) === 22)
      expect(await writer.get(2)).toBeUndefined()
      await waitFor(() => writer.stats().pending === 0)
      expect(events.some((e) => e._tag === "GroupRecreated")).toBe(true)
      expect(writer.stats().groupsRecreated).toBeGreaterThanOrEqual(1)
    } finally {
      await writer.close()
    }
  })

  it("a group destroyed while entries wait: recreated at the stream's start, the waiting entries are flushed and read back as pending until then", async () => {
    const source = versionedSource()
    source.state.failing = true
    const stream = `wb-recovery:${++streams}`
    const writer = await start(source, stream)
    try {
      await writer.set(1, 10)
      await writer.set(2, 20)
      await waitFor(() => writer.stats().failures > 0)
      await server.command("XGROUP", "DESTROY", stream, "strata")
      // The entries are still in the stream: still pending, and get says so (its check recreates the group).
      expect(await writer.get(1)).toBe(10)
      source.state.failing = false
      await waitFor(() => source.value(1) === 10 && source.value(2) === 20)
      await writer.set(3, 30)
      await waitFor(() => source.value(3) === 30)
      await waitFor(() => writer.stats().pending === 0)
      expect(await writer.get(1)).toBeUndefined()
    } finally {
      await writer.close()
    }
  })

  it("a group destroyed under a stream that still has entries: appends go on, the flusher's next read recreates the group and flushes them", async () => {
    const source = versionedSource()
    const stream = `wb-recovery:${++streams}`
    const writer = await start(source, stream)
    const operations: Array<string> = []
    writer.on((event) => {
      if (event._tag === "GroupRecreated") operations.push(event.operation)
    })
    try {
      await writer.set(1, 10)
      await waitFor(() => source.value(1) === 10)
      await server.command("XGROUP", "DESTROY", stream, "strata")
      const outcomes = await setAll(writer, stream, [
        [2, 20],
        [3, 30],
      ])
      expect(outcomes).toEqual([
        { ok: true, grew: 1 },
        { ok: true, grew: 1 },
      ])
      await waitFor(() => source.value(2) === 20 && source.value(3) === 30)
      expect(operations.length).toBeGreaterThanOrEqual(1)
      await waitFor(() => writer.stats().pending === 0)
    } finally {
      await writer.close()
    }
  })

  it("a read of a write lost with its stream answers undefined, not the lost value for ever", async () => {
    const source = versionedSource()
    source.state.failing = true
    const stream = `wb-recovery:${++streams}`
    const writer = await start(source, stream)
    try {
      await writer.set(1, 10)
      expect(await writer.get(1)).toBe(10)
      await server.command("DEL", stream)
      // Its entry is gone: it will never be flushed, so it is not pending.
      expect(await writer.get(1)).toBeUndefined()
      expect(writer.stats().pending).toBe(0)
      source.state.failing = false
    } finally {
      await writer.close()
    }
  })

  it("Redis restarted without persistence under a running writer: new sets are flushed, get works, close resolves", async () => {
    const own = await RedisHarness.startRedis()
    const source = versionedSource()
    const stream = "wb-recovery:restart"
    const writer = await createWriteBehindStream({
      redis: { url: own.url, commandTimeoutMillis: 5_000 },
      keyspace: LastSeen,
      stream,
      flushIntervalMillis: 50,
      retryInitialMillis: 20,
      retryMaxMillis: 50,
      closeTimeoutMillis: 3_000,
      flush: source.flush,
    })
    const events: Array<WriteBehindEvent["_tag"]> = []
    writer.on((event) => events.push(event._tag))
    try {
      await writer.set(1, 10)
      await waitFor(() => source.value(1) === 10)
      // A write acknowledged to its caller, not yet flushed, then lost with Redis (no AOF, no RDB).
      source.state.failing = true
      await writer.set(2, 20)
      await own.kill()
      await own.restart()
      source.state.failing = false
      // The connection comes back on its own; until it does, a set is refused with nothing written.
      let version: string | undefined
      await waitFor(async () => {
        version = await writer.set(3, 30).catch(() => undefined)
        return version !== undefined
      })
      await writer.set(3, 31)
      await waitFor(() => source.value(3) === 31)
      expect(await writer.get(3)).toBeUndefined()
      // The lost write is not answered as pending for ever, nor kept in memory.
      expect(await writer.get(2)).toBeUndefined()
      await waitFor(() => writer.stats().pending === 0)
      expect(source.value(2)).toBeUndefined()
      expect(events).toContain("GroupRecreated")
    } finally {
      await writer.close()
      await RedisHarness.stopAll([own])
    }
  })

  it("close while Redis is down: FlushIncomplete says it could not reach the stream (its message does not throw)", async () => {
    const own = await RedisHarness.startRedis()
    const source = versionedSource()
    const writer = await createWriteBehindStream({
      redis: { url: own.url, commandTimeoutMillis: 5_000 },
      keyspace: LastSeen,
      stream: "wb-recovery:down",
      flushIntervalMillis: 50,
      retryInitialMillis: 20,
      closeTimeoutMillis: 300,
      flush: source.flush,
    })
    try {
      await own.kill()
      const refused = await writer.close().then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(refused).toMatchObject({ _tag: "FlushIncomplete", remaining: 0 })
      expect((refused as Error).message).toContain("could not reach its source or its stream")
    } finally {
      await RedisHarness.stopAll([own])
    }
  })
})
