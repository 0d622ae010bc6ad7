/**
 * Issue 9, item 8 (first half): with default options, nothing is served from
 * L1 more than 500 ms after a write elsewhere while the bus is black-holed.
 * Process B's bus connection (publisher and subscriber) goes through a fault
 * proxy; its store connection and process A are direct.
 */
import { FaultProxy, RedisHarness } from "@strata/testkit"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isolation, lastSeen, type Node, nodePool, sleep, until, wall } from "./nodes.ts"

const BOUND = 500

let server: RedisHarness.RedisServer
let proxy: FaultProxy.FaultProxy
const pool = nodePool()
let a: Node
let b: Node

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  proxy = await FaultProxy.startFaultProxy(server.port)
  const { prefix, channel } = isolation()
  ;[a, b] = (await pool.start(2, (i) => ({
    store: server.url,
    bus: i === 1 ? `redis://127.0.0.1:${proxy.port}` : server.url,
    prefix,
    channel,
  }))) as [Node, Node]
}, 90_000)

afterAll(async () => {
  await pool.stopAll()
  await proxy?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

describe("bus black-holed (black box, default options, 2 processes)", () => {
  for (const delay of [0, 700]) {
    it(`B never serves v1 from L1 more than 500 ms after A's set of v2 resolved (write ${delay} ms after the bus went dark)`, async () => {
      const key = `user:${delay}`
      const [v1, v2] = [`v1@${delay}`, `v2@${delay}`]
      expect((await a.set(key, v1)).ok).toBe(true)
      // Two reads: the first fills B's L1 from Redis, the second is an L1 hit.
      expect(
        await until(async () => {
          const r = await b.get(key)
          return r.ok && r.result === v1
        }),
      ).toBe(true)
      expect((await b.get(key)).ok).toBe(true)

      // A steady bus first: no gap (such as the reconnect after the previous test's heal) for 2.5 s.
      expect(
        await until(async () => {
          const gaps = (await b.status()).events.filter((e) => e.tag === "BusGap")
          return gaps.length === 0 || wall() - gaps.at(-1)!.at > 2_500
        }, 15_000),
      ).toBe(true)
      expect((await b.get(key)).ok).toBe(true)

      proxy.blackHole()
      await sleep(delay)
      const reading = b.readLoop(key, 3_000, 10)
      await sleep(30)
      const write = await a.set(key, v2)
      expect(write.ok).toBe(true)
      const reads = await reading
      proxy.pass()

      const last = lastSeen(reads, v1)
      const lateBy = last === undefined ? undefined : Math.round(last - write.doneAt)
      console.log(
        `bus black-holed, write ${delay} ms later: B's last v1 read ${lateBy === undefined ? "none" : `${lateBy} ms`} after A's set resolved (${reads.length} reads over 3 s)`,
      )
      const late = reads.filter(([at, read]) => at > write.doneAt + BOUND && read === v1)
      expect(
        late.length === 0 ? [] : [`${late.length} reads of v1, the last ${lateBy} ms after the write`],
        `reads of v1 later than ${BOUND} ms after the write`,
      ).toEqual([])
      // Once the link is back, B converges.
      expect(
        await until(async () => {
          const r = await b.get(key)
          return r.ok && r.result === v2
        }, 5_000),
      ).toBe(true)
      expect((await b.status()).unhandled).toEqual([])
    }, 30_000)
  }
})
