import { describe, expect, it } from "vitest"
import { L1, type L1Slot } from "../../src/internal/l1.ts"

const slot = (value: unknown, expiresAt: number, tagVersions?: ReadonlyArray<string | number>): L1Slot => ({
  value,
  freshUntil: expiresAt,
  expiresAt,
  tagVersions,
  copy: undefined,
  size: 10,
  visited: false,
  filledAt: 0,
})

describe("L1: the in-process tier and the tag versions this process knows", () => {
  it("alive keeps a live slot and drops a dead one", () => {
    const clock = { now: 0 }
    const l1 = new L1({}, () => clock.now)
    l1.sieve.set("s", "k", slot("v", 100), 0)
    expect(l1.alive("s", "k")?.value).toBe("v")
    clock.now = 100
    expect(l1.alive("s", "k")).toBeUndefined()
    expect(l1.sieve.size).toBe(0)
  })

  it("a slot whose tag versions are no longer current is dropped; tag versions only grow", () => {
    const l1 = new L1({}, () => 0)
    l1.learnTag("user:1", 2)
    l1.sieve.set("s", "k", slot("v", 100, ["user:1", 2]), 0)
    expect(l1.tagsCurrent(["user:1", 2])).toBe(true)
    l1.learnTag("user:1", 1)
    expect(l1.tags.get("user:1")).toBe(2)
    l1.learnTag("user:1", 3)
    expect(l1.alive("s", "k")).toBeUndefined()
  })

  it("an unknown tag counts as version 0", () => {
    const l1 = new L1({}, () => 0)
    expect(l1.tagsCurrent(["never", 0])).toBe(true)
    expect(l1.tagsCurrent(["never", 1])).toBe(false)
  })

  it("is bounded by entries (SIEVE evicts)", () => {
    const l1 = new L1({ maxEntries: 3 }, () => 0)
    for (let i = 0; i < 10; i++) l1.sieve.set("s", String(i), slot(i, 1_000), 0)
    expect(l1.sieve.size).toBe(3)
  })
})
