/**
 * Issue 9, item 4: a write whose outcome is unknown (it timed out) can never
 * land after a write acknowledged later. Process A's store connection goes
 * through a fault proxy that holds its bytes (a stalled link, not a dead
 * one: TCP delivers them once it heals); B writes directly.
 */
import { randomUUID } from "node:crypto"
import { FaultProxy, RedisHarness } from "@strata/testkit"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isolation, type Node, nodePool, sleep, wall } from "./nodes.ts"

let server: RedisHarness.RedisServer
let proxy: FaultProxy.FaultProxy
let raw: Redis
const pool = nodePool()
let a: Node
let b: Node
let fresh: Node
const { prefix, channel } = isolation()

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  proxy = await FaultProxy.startFaultProxy(server.port)
  raw = new Redis(server.port, "127.0.0.1")
  const direct = { store: server.url, prefix, channel }
  ;[a, b, fresh] = (await pool.start(3, (i) =>
    // A's store goes through the proxy (its bus does not); B and the fresh reader are direct.
    i === 0 ? { ...direct, store: `redis://127.0.0.1:${proxy.port}`, bus: server.url } : direct,
  )) as [Node, Node, Node]
}, 90_000)

afterAll(async () => {
  await pool.stopAll()
  raw?.disconnect()
  await proxy?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

/** Which markers the stored bytes of this test's keys hold, straight from Redis. */
const markersInRedis = async (markers: ReadonlyArray<string>) => {
  const found = new Set<string>()
  for (const key of await raw.keys(`${prefix}bb.item*`)) {
    const bytes = await raw.getBuffer(key)
    for (const marker of markers) if (bytes?.includes(marker)) found.add(marker)
  }
  return [...found]
}

describe("stalled writer (black box, 3 processes, A's store link stalled through a proxy)", () => {
  it("a set that timed out on a stalled link never lands over a later acknowledged set: Redis, A, B and a fresh process read v2, never v1", async () => {
    const key = "user:42"
    const [v0, v1, v2] = ["v0", "v1", "v2"].map((v) => `${v}-${randomUUID().slice(0, 8)}`) as [
      string,
      string,
      string,
    ]
    expect((await a.set(key, v0)).ok).toBe(true)
    expect((await b.get(key)).ok).toBe(true)

    proxy.blackHole()
    const stalled = await a.set(key, v1)
    expect(stalled.ok, "A's set on the stalled link fails").toBe(false)
    if (!stalled.ok) expect(["Timeout", "StoreUnavailable"]).toContain(stalled.tag)
    const acknowledged = await b.set(key, v2)
    expect(acknowledged.ok, "B's set is acknowledged").toBe(true)
    // Heal well inside the socket timeout, so the held bytes (A's SET of v1) reach Redis now.
    proxy.pass()
    const healedAt = wall()

    const wrong: Array<string> = []
    while (wall() < healedAt + 2_000) {
      const at = Math.round(wall() - healedAt)
      const [inRedis, ...reads] = await Promise.all([
        markersInRedis([v0, v1, v2]),
        a.get(key),
        b.get(key),
        fresh.get(key),
      ])
      if (inRedis.length !== 1 || inRedis[0] !== v2) wrong.push(`+${at} ms Redis holds ${inRedis}`)
      reads.forEach((r, i) => {
        const read = r.ok ? r.result : `!${r.tag}`
        if (read !== v2) wrong.push(`+${at} ms ${["A", "B", "fresh"][i]} read ${read}`)
      })
      await sleep(50)
    }
    console.log(
      `stalled writer: A's set failed after ${Math.round(stalled.doneAt - stalled.startedAt)} ms (${stalled.ok ? "ok" : stalled.tag}); wrong reads after the heal: ${wrong.length}${wrong.length > 0 ? `, first: ${wrong.slice(0, 4).join("; ")}` : ""}`,
    )
    expect(wrong.slice(0, 10), "every read after the heal sees v2").toEqual([])
  }, 60_000)
})
