/**
 * Issue 9, items 1 and 2: versions and counters go through Redis' Lua, whose
 * numbers print with 14 significant digits. Whatever the store does inside
 * its scripts, a user sees exact round trips: a value loaded after a delete
 * is readable by every other process, and a counter restarted after a
 * delete counts 1, 2, 3.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { isolation, type Node, nodePool } from "./nodes.ts"

const pool = nodePool()
let a: Node
let b: Node

beforeAll(async () => {
  const { prefix, channel } = isolation()
  ;[a, b] = (await pool.start(2, { store: inject("redisUrl"), prefix, channel })) as [Node, Node]
}, 90_000)
afterAll(() => pool.stopAll())

describe("Lua numbers: versions and counters round-trip exactly (black box, 2 processes)", () => {
  it("a value loaded by getOrSet after a delete is read by another process (versions survive the fill script)", async () => {
    const misses: Array<string> = []
    for (let i = 0; i < 5; i++) {
      const key = `user:${42 + i}`
      expect((await a.set(key, "before")).ok).toBe(true)
      expect((await a.delete(key)).ok).toBe(true)
      const loaded = await a.getOrSet(key, `loaded-${i}`)
      expect(loaded.ok && loaded.result.value).toBe(`loaded-${i}`)
      const read = await b.get(key)
      if (!read.ok || read.result !== `loaded-${i}`)
        misses.push(`${key}: B read ${read.ok ? JSON.stringify(read.result) : read.tag}`)
    }
    const dropped = (await b.status()).events.filter((e) => e.tag === "EntryDropped").length
    expect(misses, `B's reads after A's delete+getOrSet (B dropped ${dropped} entries)`).toEqual([])
    expect(dropped).toBe(0)
  })

  it("increment 5, delete, increment 1, increment 1 gives 1 then 2, and another process reads 2", async () => {
    const key = "page:/home"
    expect((await a.increment(key, 5)).ok).toBe(true)
    expect((await a.delete(key, "count")).ok).toBe(true)
    const first = await a.increment(key, 1)
    const second = await a.increment(key, 1)
    const third = await b.increment(key, 1)
    expect([first, second, third].map((r) => (r.ok ? r.result : r.tag))).toEqual([1, 2, 3])
    const read = await b.getCount(key)
    expect(read.ok && read.result).toBe(3)
  })
})
