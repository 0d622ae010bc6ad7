/**
 * Issue 9, item 9: an event listener that throws never crashes the process
 * (no uncaughtException, no unhandledRejection) and never changes a call's
 * result; forged or undecodable messages published raw on the bus channel
 * crash nothing; forged *valid* messages from an unknown node are at worst a
 * harmless invalidation.
 *
 * Process L registers a listener that always throws (after one that records
 * events) and reports what reached its process-level handlers. Its store
 * goes through a fault proxy, its bus is direct. Process A is an ordinary
 * node. The messages are forged as the bus documents them: msgpack
 * `{ v: 1, node, seq, msgs }` on the channel.
 */
import { randomUUID } from "node:crypto"
import { Msgpack } from "@strata/core"
import { FaultProxy, RedisHarness } from "@strata/testkit"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { isolation, type Node, nodePool, sleep, until } from "./nodes.ts"

let server: RedisHarness.RedisServer
let proxy: FaultProxy.FaultProxy
let raw: Redis
const pool = nodePool()
let a: Node
let l: Node
const { prefix, channel } = isolation()

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  proxy = await FaultProxy.startFaultProxy(server.port)
  raw = new Redis(server.port, "127.0.0.1")
  ;[a, l] = (await pool.start(2, (i) => ({
    store: i === 1 ? `redis://127.0.0.1:${proxy.port}` : server.url,
    bus: server.url,
    prefix,
    channel,
    throwingListener: i === 1,
  }))) as [Node, Node]
}, 90_000)

afterAll(async () => {
  await pool.stopAll()
  raw?.disconnect()
  await proxy?.close()
  if (server !== undefined) await RedisHarness.stopAll([server])
})

/** Asserts L's process saw nothing escape since `before` (an index into its `unhandled` list). */
const expectNothingEscaped = async (before: number, what: string) => {
  await sleep(300)
  const status = await l.status()
  expect(status.unhandled.slice(before), `what reached L's process handlers ${what}`).toEqual([])
}
const escapedSoFar = async () => (await l.status()).unhandled.length
const eventCount = async (tag: string) => (await l.status()).events.filter((e) => e.tag === tag).length

/** Waits until `node` reads `expected` for `key`. */
const reads = (node: Node, key: string, expected: string | null, millis = 5_000) =>
  until(async () => {
    const r = await node.get(key)
    return r.ok && r.result === expected
  }, millis)

describe("a listener that throws (black box, 2 processes)", () => {
  it("a dropped entry (bytes of an incompatible schema) still reads as a miss, and nothing escapes", async () => {
    const before = await escapedSoFar()
    const key = "user:old-deploy"
    // A writes the key with the old deploy's schema; L's schema cannot decode it.
    expect((await a.set(key, 5, "other")).ok).toBe(true)
    const read = await l.get(key)
    expect(read.ok ? read.result : `!${read.tag}`, "L's get of undecodable bytes").toBe(null)
    expect(await eventCount("EntryDropped")).toBeGreaterThan(0)
    await expectNothingEscaped(before, "after the dropped entry")
  })

  it("with the store cut off, getOrSet still returns the loader's value and get still answers a miss, and nothing escapes", async () => {
    const before = await escapedSoFar()
    proxy.cut({ refuse: true })
    try {
      const loaded = await l.getOrSet("user:cut-1", "from the loader")
      expect(loaded.ok ? loaded.result.value : `!${loaded.tag}`, "L's getOrSet").toBe("from the loader")
      const read = await l.get("user:cut-2")
      expect(read.ok ? read.result : `!${read.tag}`, "L's get").toBe(null)
      expect(await eventCount("StoreFailed")).toBeGreaterThan(0)
    } finally {
      proxy.pass()
    }
    await expectNothingEscaped(before, "while the store was cut off")
    expect((await l.status()).pid).toBe(l.pid)
  })

  it("bus gaps (every subscriber connection killed by Redis) crash nothing, and L converges afterwards", async () => {
    // L must be reachable again (its store reconnected) before this test's reads mean anything.
    expect(await reads(l, "user:nobody", null, 10_000)).toBe(true)
    const before = await escapedSoFar()
    const gapsBefore = await eventCount("BusGap")
    await server.clientKill("pubsub")
    expect(await until(async () => (await eventCount("BusGap")) > gapsBefore, 5_000)).toBe(true)
    await expectNothingEscaped(before, "after the bus gaps")
    const key = "user:after-gap"
    expect((await a.set(key, "after the gap")).ok).toBe(true)
    expect(await reads(l, key, "after the gap")).toBe(true)
  })
})

describe("forged messages on the bus channel (black box, 2 processes)", () => {
  const publishRaw = async (payloads: ReadonlyArray<Uint8Array | string>) => {
    for (const payload of payloads)
      await raw.publish(channel, typeof payload === "string" ? payload : Buffer.from(payload))
  }
  const envelope = (node: string, seq: number, msgs: ReadonlyArray<unknown>) =>
    Msgpack.pack({ v: 1, node, seq, msgs })

  it("undecodable and malformed messages, with a throwing listener, crash nothing and are reported as dropped", async () => {
    const before = await escapedSoFar()
    const droppedBefore = await eventCount("BusMessageDropped")
    const deeplyNested = Buffer.concat([Buffer.alloc(200_000, 0x91), Buffer.from([0xc0])])
    await publishRaw([
      Buffer.alloc(64, 0xc1), // never-used msgpack byte
      "not msgpack at all",
      Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), // a map claiming 4 billion entries
      deeplyNested, // 200,000 nested arrays
      Msgpack.pack({ v: 2, node: "attacker", seq: 1, msgs: [] }),
      Msgpack.pack({ v: 1, node: "attacker", seq: 1.5, msgs: [{ _tag: "Nope" }] }),
      Msgpack.pack({ v: 1, node: 42, seq: 1, msgs: "x" }),
      Msgpack.pack({
        v: 1,
        node: "attacker",
        seq: 1,
        msgs: [{ _tag: "InvalidateKeys", space: 1, keys: [2] }],
      }),
      Msgpack.pack([1, 2, 3]),
      Buffer.alloc(2 * 1024 * 1024, 0x90), // 2 MiB of empty arrays
    ])
    expect(
      await until(async () => (await eventCount("BusMessageDropped")) > droppedBefore, 3_000),
      "L reports dropped messages",
    ).toBe(true)
    await expectNothingEscaped(before, "after undecodable messages")
    const key = "user:after-junk"
    expect((await a.set(key, "after the junk")).ok).toBe(true)
    expect(await reads(l, key, "after the junk")).toBe(true)
  })

  it("valid messages forged by an unknown node are at worst a harmless invalidation: values stay right, writes still propagate, nothing escapes", async () => {
    const key = "user:42"
    const marker = `v1-${randomUUID().slice(0, 8)}`
    expect((await a.set(key, marker)).ok).toBe(true)
    expect(await reads(l, key, marker)).toBe(true)
    // The store key, as anyone with access to Redis (and so to the channel) can see it.
    const space = "bb.item:v1"
    const fullKeys = await raw.keys(`${prefix}${space}:*`)
    const fullKey = (
      await Promise.all(fullKeys.map(async (k) => ((await raw.getBuffer(k))?.includes(marker) ? k : "")))
    ).find((k) => k !== "")!
    const storeKey = fullKey.slice(`${prefix}${space}:`.length).replace(/^\d+:/, "")

    const before = await escapedSoFar()
    const attacker = `attacker-${randomUUID()}`
    await publishRaw([
      envelope(attacker, 1, [{ _tag: "InvalidateKeys", space, keys: [storeKey, "nonexistent"] }]),
      envelope(attacker, 2, [{ _tag: "Filled", space, keys: [storeKey] }]),
      envelope(attacker, 9, [{ _tag: "InvalidateTag", tag: "user:42", version: 2 ** 53 - 1 }]),
      envelope(attacker, 10, [{ _tag: "ClearSpace", space: "no.such.space:v1" }]),
      envelope(attacker, 11, [{ _tag: "Reset", reason: "forged" }]),
      envelope(attacker, -5, [{ _tag: "InvalidateKeys", space, keys: [] }]),
    ])
    await expectNothingEscaped(before, "after forged valid messages")
    for (const node of [l, a]) {
      const read = await node.get(key)
      expect(read.ok ? read.result : `!${read.tag}`, "the value after forged invalidations").toBe(marker)
    }
    const next = `v2-${randomUUID().slice(0, 8)}`
    const write = await a.set(key, next)
    expect(write.ok).toBe(true)
    expect(await reads(l, key, next, 500), "L reads A's next write within 500 ms").toBe(true)
    await expectNothingEscaped(before, "after the next write")
  })
})
