/**
 * The cross-process bound: three real processes (clocks shifted by −5, 0 and
 * +5 minutes) hammer one key on one real Redis; together they never admit
 * more than the algorithm allows, measured on Redis's own clock.
 */
import type { Algorithm } from "@strata/ratelimit"
import { WorkerProcess } from "@strata/testkit/servers"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openRedis, RedisHarness } from "./redisHelpers.ts"

let server: RedisHarness.RedisServer
let redis: Awaited<ReturnType<typeof openRedis>>
const workers: Array<WorkerProcess.Worker> = []

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  redis = await openRedis(server.url)
  const worker = new URL("./processes/limiterWorker.ts", import.meta.url)
  workers.push(
    ...(await Promise.all(
      [-300_000, 0, 300_000].map((offset) =>
        WorkerProcess.start(worker, { STRATA_REDIS_URL: server.url, STRATA_CLOCK_OFFSET_MS: String(offset) }),
      ),
    )),
  )
})
afterAll(async () => {
  await Promise.all(workers.splice(0).map((w) => w.exit()))
  await redis?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

let runs = 0
/** Hammers one fresh key from the three workers; returns what they admitted and the span on Redis's clock (ms). */
const hammer = async (
  algorithm: Algorithm.Name,
  numbers: { limit: number; windowMillis: number; burst?: number },
) => {
  const key = `hot-${runs++}`
  const startedAt = await redis.serverTime()
  const results = await Promise.all(
    workers.map((w) =>
      w.call<{ admitted: number; denied: number }>("hammer", {
        algorithm,
        key,
        ...numbers,
        requests: 250,
        concurrency: 16,
      }),
    ),
  )
  const endedAt = await redis.serverTime()
  const admitted = results.reduce((n, r) => n + r.admitted, 0)
  const denied = results.reduce((n, r) => n + r.denied, 0)
  expect(admitted + denied).toBe(750)
  return { admitted, startedAt, endedAt, span: endedAt - startedAt }
}

describe("three processes, one key, one Redis", () => {
  it("fixed window: at most the limit per aligned window (so up to 2× around a boundary, as documented)", async () => {
    const windowMillis = 60_000
    const { admitted, startedAt, endedAt } = await hammer("fixed-window", { limit: 40, windowMillis })
    const windows = Math.floor(endedAt / windowMillis) - Math.floor(startedAt / windowMillis) + 1
    expect(admitted).toBeGreaterThanOrEqual(40)
    expect(admitted).toBeLessThanOrEqual(40 * windows)
  })

  it("sliding log: never more than the limit within one window", async () => {
    const { admitted, span } = await hammer("sliding-log", { limit: 40, windowMillis: 60_000 })
    expect(span).toBeLessThan(60_000)
    expect(admitted).toBe(40)
  })

  it("sliding window counter: never more than the limit within one window (no boundary burst)", async () => {
    const { admitted, span } = await hammer("sliding-window", { limit: 40, windowMillis: 60_000 })
    expect(span).toBeLessThan(54_000)
    expect(admitted).toBe(40)
  })

  it("token bucket and GCRA: at most burst + limit × span / window", async () => {
    for (const algorithm of ["token-bucket", "gcra"] as const) {
      const windowMillis = 10_000
      const { admitted, span } = await hammer(algorithm, { limit: 20, windowMillis, burst: 30 })
      expect(admitted).toBeGreaterThanOrEqual(30)
      expect(admitted).toBeLessThanOrEqual(30 + Math.ceil((20 * (span + 1)) / windowMillis))
    }
  })

  it("every key the hammering left has a TTL", async () => {
    const keys = await redis.inspect.keys("rl:*")
    expect(keys.length).toBeGreaterThan(0)
    const ttls = await Promise.all(keys.map((k) => redis.inspect.pttl(k)))
    expect(ttls.filter((t) => t === -1)).toEqual([])
  })

  it("a worker killed mid-run leaves no key without a TTL", async () => {
    const victim = workers.pop()!
    const pending = victim
      .call("hammer", {
        algorithm: "sliding-log",
        key: "killed",
        limit: 1_000,
        windowMillis: 60_000,
        // Far more than it can send before the kill (5,000 took under 300 ms on a quiet machine).
        requests: 10_000_000,
        concurrency: 8,
      })
      .catch(() => "killed")
    // Kill it once it is writing the key, not after a guessed delay.
    const key = "rl:sliding-log:t.sliding-log:v1:'killed'"
    for (let waited = 0; (await redis.inspect.exists(key)) === 0 && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
    victim.kill()
    expect(await pending).toBe("killed")
    const keys = await redis.inspect.keys("rl:*")
    expect(keys).toContain(key)
    const ttls = await Promise.all(keys.map((k) => redis.inspect.pttl(k)))
    expect(ttls.filter((t) => t === -1)).toEqual([])
  })
})
