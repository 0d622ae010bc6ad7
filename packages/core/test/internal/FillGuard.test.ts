import { describe, expect, it } from "vitest"
import { FillGuard } from "../../src/internal/fillGuard.ts"

describe("FillGuard: a fill that began before an invalidation of what it reads is never stored", () => {
  it("voiding a key voids the fills in flight for that key only", () => {
    const guard = new FillGuard()
    const a = guard.begin("s", "a", undefined)
    const b = guard.begin("s", "b", undefined)
    const other = guard.begin("t", "a", undefined)
    guard.voidKey("s", "a")
    expect([guard.valid(a), guard.valid(b), guard.valid(other)]).toEqual([false, true, true])
    expect(guard.end(a)).toBe(false)
    expect(guard.end(b)).toBe(true)
  })

  it("a fill that begins after the invalidation is not affected by it", () => {
    const guard = new FillGuard()
    guard.voidKey("s", "a")
    expect(guard.valid(guard.begin("s", "a", undefined))).toBe(true)
  })

  it("tags, spaces and everything void what they cover", () => {
    const guard = new FillGuard()
    const tagged = guard.begin("s", "a", ["user:1"])
    const untagged = guard.begin("s", "b", undefined)
    const elsewhere = guard.begin("t", "c", ["user:2"])
    guard.voidTag("user:1")
    expect([guard.valid(tagged), guard.valid(untagged), guard.valid(elsewhere)]).toEqual([false, true, true])
    guard.voidSpace("s")
    expect([guard.valid(untagged), guard.valid(elsewhere)]).toEqual([false, true])
    guard.voidEverything()
    expect(guard.valid(elsewhere)).toBe(false)
  })

  it("tracks only fills in flight: size returns to 0 when every fill ended", () => {
    const guard = new FillGuard()
    const tickets = Array.from({ length: 10 }, (_, i) => guard.begin("s", String(i % 3), [`t${i % 2}`]))
    expect(guard.size).toBe(10)
    for (const ticket of tickets) guard.end(ticket)
    expect(guard.size).toBe(0)
  })

  it("when disabled (tests that show the guard is needed), nothing is ever voided", () => {
    const guard = new FillGuard(true)
    const ticket = guard.begin("s", "a", ["t"])
    guard.voidKey("s", "a")
    guard.voidTag("t")
    guard.voidEverything()
    expect(guard.valid(ticket)).toBe(true)
  })
})
