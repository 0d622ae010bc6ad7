import { randomUUID } from "node:crypto"
import { FaultProxy, RedisHarness } from "@strata/testkit"
import { afterEach, describe, expect, it } from "vitest"
import { percentile, startWorker, type Worker } from "./processes/client.ts"

// Several real Node processes, each with its own cache, store and bus connections, on a Redis of this file's own.

let server: RedisHarness.RedisServer | undefined
let currentChannel = ""
let proxy: FaultProxy.FaultProxy | undefined
const workers: Array<Worker> = []

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.call("exit").catch(() => w.kill())))
  await proxy?.close()
  proxy = undefined
  if (server !== undefined) await RedisHarness.stopAll([server])
  server = undefined
})

const start = async (count: number, options: { busViaProxy?: boolean; redisArgs?: Array<string> } = {}) => {
  server = await RedisHarness.startRedis({ args: options.redisArgs })
  const channel = `mp-${randomUUID().slice(0, 8)}`
  currentChannel = channel
  if (options.busViaProxy === true) proxy = await FaultProxy.startFaultProxy(server.port)
  const started = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      startWorker({
        STRATA_REDIS_URL: server!.url,
        STRATA_CHANNEL: channel,
        // The last process's bus goes through the proxy when asked.
        ...(options.busViaProxy === true && i === count - 1
          ? { STRATA_BUS_URL: `redis://127.0.0.1:${proxy!.port}` }
          : {}),
      }),
    ),
  )
  workers.push(...started)
  return started
}

interface Status {
  readonly unhandled: number
  readonly gaps: ReadonlyArray<{ reason: string; connected: boolean; at: number }>
  readonly stats: { readonly loads: number }
}

/** The bus channel the workers of this test share. */
const channelOf = async (_worker: Worker) => currentChannel

/** Publishes `count` junk messages of `bytes` each on the channel (they are dropped as malformed if they ever arrive). */
const flood = async (channel: string, count: number, bytes: number) => {
  const { Redis } = await import("ioredis")
  const client = new Redis(server!.port, "127.0.0.1")
  try {
    const payload = Buffer.alloc(bytes, 0xc1)
    for (let i = 0; i < count; i++) await client.publish(channel, payload)
  } finally {
    client.disconnect()
  }
}

/** Reads `key` on `reader` over `millis`; every read later than `from` must see `expected` (or no value while the store is down, when allowed). */
const staleReadsAfter = (reads: ReadonlyArray<[number, string | null]>, from: number, expected: string) =>
  reads.filter(([at, value]) => at > from && value !== expected && value !== "error")

describe("several processes on one Redis", () => {
  it("cold-key stampede: 4 processes × 250 concurrent callers make exactly one loader call per burst, and every caller gets its value", async () => {
    const processes = await start(4)
    const bursts = 5
    const loaderMillis = 50
    const lateness: Array<number> = []
    for (let burst = 0; burst < bursts; burst++) {
      const key = `stampede-${burst}`
      const results = await Promise.all(
        processes.map((p) =>
          p.call<{ loaderCalls: number; values: Array<unknown>; startedAt: number; doneAt: Array<number> }>(
            "stampede",
            {
              key,
              callers: 250,
              loaderMillis,
            },
          ),
        ),
      )
      expect(
        results.reduce((sum, r) => sum + r.loaderCalls, 0),
        `loader calls in burst ${burst}`,
      ).toBe(1)
      const values = new Set(results.flatMap((r) => r.values.map((v) => JSON.stringify(v))))
      expect(values.size, "every caller got the one loaded value").toBe(1)
      const firstStart = Math.min(...results.map((r) => r.startedAt))
      for (const r of results) for (const done of r.doneAt) lateness.push(done - firstStart - loaderMillis)
    }
    console.log(
      `stampede: ${bursts} bursts of 4 × 250 callers, 1 loader call each; waiters done after the loader: p50 ${percentile(lateness, 50).toFixed(1)} ms, p99 ${percentile(lateness, 99).toFixed(1)} ms, max ${Math.max(...lateness).toFixed(1)} ms`,
    )
  }, 120_000)

  it("a write on process A leaves B's L1 within a bound (propagation p50/p99 measured)", async () => {
    const [a, b] = await start(2)
    const latencies: Array<number> = []
    for (let round = 0; round < 200; round++) {
      const key = "propagation"
      await a!.call("set", { key, value: `v${round}` })
      // Wait until B's L1 holds this round's value (a read racing A's invalidation does not fill L1), then race A's next write against B's watch.
      while ((await b!.call("peek", { key })) !== `v${round}`) {
        await b!.call("get", { key })
        await new Promise((r) => setTimeout(r, 1))
      }
      const watch = b!.call<{ at: number | null }>("watch", { key, value: `v${round}`, timeoutMillis: 2_000 })
      const write = await a!.call<{ startedAt: number; doneAt: number }>("set", {
        key,
        value: `v${round + 1}`,
      })
      const { at } = await watch
      expect(at, "B's L1 dropped the old value").not.toBeNull()
      latencies.push(at! - write.doneAt)
    }
    const p50 = percentile(latencies, 50)
    const p99 = percentile(latencies, 99)
    console.log(
      `propagation A write returned → B's L1 dropped: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms (200 writes)`,
    )
    expect(p99).toBeLessThan(500)
  }, 120_000)

  it("subscriber killed (CLIENT KILL TYPE pubsub): a write made while B is resubscribing is never served stale by B after it reconnects", async () => {
    const [a, b] = await start(2)
    await a!.call("set", { key: "k", value: "v1" })
    while ((await b!.call("get", { key: "k" })) !== "v1") await new Promise((r) => setTimeout(r, 5))
    const reads = b!.call<Array<[number, string | null]>>("readLoop", { key: "k", millis: 1_500, every: 5 })
    await new Promise((r) => setTimeout(r, 100))
    await server!.clientKill("pubsub")
    const write = await a!.call<{ doneAt: number; ok: boolean }>("set", { key: "k", value: "v2" })
    expect(write.ok).toBe(true)
    const bound = 300
    expect(staleReadsAfter(await reads, write.doneAt + bound, "v2")).toEqual([])
    const status = await b!.call<Status>("status")
    expect(status.gaps.map((g) => g.connected)).toEqual([false, true])
    expect(status.unhandled).toBe(0)
    expect(await b!.call("get", { key: "k" })).toBe("v2")
  }, 60_000)

  it("zombie subscriber (black-holed through a proxy): within the heartbeat bound B stops serving its L1 copy", async () => {
    const [a, b] = await start(2, { busViaProxy: true })
    await a!.call("set", { key: "k", value: "v1" })
    while ((await b!.call("get", { key: "k" })) !== "v1") await new Promise((r) => setTimeout(r, 5))
    const reads = b!.call<Array<[number, string | null]>>("readLoop", { key: "k", millis: 2_500, every: 5 })
    await new Promise((r) => setTimeout(r, 100))
    proxy!.blackHole()
    const write = await a!.call<{ doneAt: number }>("set", { key: "k", value: "v2" })
    // Heartbeat every 200 ms, timeout 600 ms (of responsive time): the silence bound is 800 ms.
    const bound = 800 + 100
    expect(staleReadsAfter(await reads, write.doneAt + bound, "v2")).toEqual([])
    proxy!.pass()
    const status = await b!.call<Status>("status")
    expect(status.gaps.some((g) => !g.connected)).toBe(true)
    expect(status.unhandled).toBe(0)
    expect(await b!.call("get", { key: "k" })).toBe("v2")
  }, 60_000)

  it("blocked event loop past the pub/sub output-buffer limit: Redis drops B's subscriber, and B serves no stale value once it runs again", async () => {
    const [a, b] = await start(2, { redisArgs: ["--client-output-buffer-limit", "pubsub 64kb 32kb 1"] })
    await a!.call("set", { key: "k", value: "v1" })
    while ((await b!.call("get", { key: "k" })) !== "v1") await new Promise((r) => setTimeout(r, 5))
    const channel = await channelOf(b!)
    const blocked = b!.call<{ at: number }>("block", { millis: 3_000 })
    await new Promise((r) => setTimeout(r, 50))
    // Write the key, then flood the channel with 16 MB while B cannot read: past the socket buffers, Redis' output buffer hits its limit.
    const write = await a!.call<{ doneAt: number }>("set", { key: "k", value: "v2" })
    await flood(channel, 250, 64 * 1024)
    const { at: unblockedAt } = await blocked
    expect(unblockedAt).toBeGreaterThan(write.doneAt)
    const reads = await b!.call<Array<[number, string | null]>>("readLoop", {
      key: "k",
      millis: 800,
      every: 5,
    })
    expect(staleReadsAfter(reads, unblockedAt, "v2")).toEqual([])
    const status = await b!.call<Status>("status")
    expect(status.gaps.length).toBeGreaterThan(0)
    expect(status.unhandled).toBe(0)
  }, 60_000)

  it("Redis restart: B drops its L1 on the gap and converges to writes made after the restart", async () => {
    const [a, b] = await start(2)
    await a!.call("set", { key: "k", value: "v1" })
    while ((await b!.call("get", { key: "k" })) !== "v1") await new Promise((r) => setTimeout(r, 5))
    await server!.restart()
    let write = { ok: false, doneAt: 0 }
    while (!write.ok) {
      write = await a!.call("set", { key: "k", value: "v2" })
      if (!write.ok) await new Promise((r) => setTimeout(r, 50))
    }
    const reads = await b!.call<Array<[number, string | null]>>("readLoop", {
      key: "k",
      millis: 1_500,
      every: 10,
    })
    expect(staleReadsAfter(reads, write.doneAt + 1_000, "v2")).toEqual([])
    expect(reads.at(-1)?.[1]).toBe("v2")
    const status = await b!.call<Status>("status")
    expect(status.gaps.some((g) => g.connected)).toBe(true)
    expect(status.unhandled).toBe(0)
  }, 60_000)

  it("Redis down for seconds: B serves no stale copy while it is down (no store, no bus) and converges after it is back", async () => {
    const [a, b] = await start(2)
    await a!.call("set", { key: "k", value: "v1" })
    while ((await b!.call("get", { key: "k" })) !== "v1") await new Promise((r) => setTimeout(r, 5))
    const reads = b!.call<Array<[number, string | null]>>("readLoop", { key: "k", millis: 4_000, every: 10 })
    await new Promise((r) => setTimeout(r, 100))
    await server!.kill()
    const downAt = performance.timeOrigin + performance.now()
    await new Promise((r) => setTimeout(r, 2_000))
    await server!.restart()
    let write = { ok: false, doneAt: 0 }
    while (!write.ok) {
      write = await a!.call("set", { key: "k", value: "v2" })
      if (!write.ok) await new Promise((r) => setTimeout(r, 50))
    }
    const all = await reads
    // While down: the bus reported the gap, so L1 was dropped and reads failed rather than served v1 for long.
    expect(all.filter(([at, value]) => at > downAt + 900 && value === "v1")).toEqual([])
    expect(staleReadsAfter(all, write.doneAt + 1_000, "v2")).toEqual([])
    expect(await b!.call("get", { key: "k" })).toBe("v2")
    expect((await b!.call<Status>("status")).unhandled).toBe(0)
    expect((await a!.call<Status>("status")).unhandled).toBe(0)
  }, 60_000)

  it("Redis paused: calls time out, B stops trusting its L1 within the silence bound, and converges after Redis resumes", async () => {
    const [a, b] = await start(2)
    await a!.call("set", { key: "k", value: "v1" })
    while ((await b!.call("get", { key: "k" })) !== "v1") await new Promise((r) => setTimeout(r, 5))
    const reads = b!.call<Array<[number, string | null]>>("readLoop", { key: "k", millis: 3_500, every: 10 })
    await new Promise((r) => setTimeout(r, 100))
    server!.pause()
    const pausedAt = performance.timeOrigin + performance.now()
    await new Promise((r) => setTimeout(r, 1_500))
    const resumedAt = performance.timeOrigin + performance.now()
    server!.resume()
    let write = { ok: false, doneAt: 0 }
    while (!write.ok) {
      write = await a!.call("set", { key: "k", value: "v2" })
      if (!write.ok) await new Promise((r) => setTimeout(r, 50))
    }
    const all = await reads
    // While paused, L1 is untrusted once the bus has been silent past its bound (800 ms); L2 calls time out.
    expect(all.filter(([at, value]) => at > pausedAt + 900 && at < resumedAt && value === "v1")).toEqual([])
    expect(staleReadsAfter(all, write.doneAt + 1_000, "v2")).toEqual([])
    expect(await b!.call("get", { key: "k" })).toBe("v2")
    expect((await b!.call<Status>("status")).unhandled).toBe(0)
  }, 60_000)
})
