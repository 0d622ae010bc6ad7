import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { Sieve, type Slot } from "../src/internal/sieve.ts"

const slot = (size = 1, expiresAt = Number.POSITIVE_INFINITY): Slot => ({ visited: false, size, expiresAt })

describe("the SIEVE bounded map behind the memory tiers", () => {
  it("never holds more entries or bytes than its bounds, whatever the writes (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(
          fc.tuple(
            fc.constantFrom("a", "b", "a:b"),
            fc.integer({ min: 0, max: 30 }),
            fc.integer({ min: 1, max: 50 }),
            fc.boolean(),
          ),
          { maxLength: 200 },
        ),
        (maxEntries, maxBytes, writes) => {
          const sieve = new Sieve<Slot>({ maxEntries, maxBytes })
          for (const [space, key, size, read] of writes) {
            if (read) sieve.get(space, String(key))
            else {
              const stored = sieve.set(space, String(key), slot(size), 0)
              expect(stored).toBe(size <= maxBytes)
              if (stored)
                expect(
                  sieve.get(space, String(key)),
                  "a slot just written is never evicted by its own write",
                ).toBeDefined()
            }
            expect(sieve.size).toBeLessThanOrEqual(maxEntries)
            expect(sieve.bytes).toBeLessThanOrEqual(maxBytes)
          }
        },
      ),
      { numRuns: 5_000 },
    )
  }, 60_000)

  it("keeps visited entries over unvisited ones", () => {
    const sieve = new Sieve<Slot>({ maxEntries: 3, maxBytes: 1_000 })
    for (const key of ["a", "b", "c"]) sieve.set("s", key, slot(), 0)
    sieve.get("s", "a")
    sieve.get("s", "c")
    sieve.set("s", "d", slot(), 0)
    expect(sieve.get("s", "b")).toBeUndefined()
    expect(sieve.get("s", "a")).toBeDefined()
    expect(sieve.get("s", "c")).toBeDefined()
  })

  it("evicts expired entries before live ones, visited or not", () => {
    const sieve = new Sieve<Slot>({ maxEntries: 2, maxBytes: 1_000 })
    sieve.set("s", "expired", slot(1, 5), 0)
    sieve.set("s", "live", slot(1, 100), 0)
    sieve.get("s", "expired")
    sieve.set("s", "new", slot(1, 100), 10)
    expect(sieve.get("s", "expired")).toBeUndefined()
    expect(sieve.get("s", "live")).toBeDefined()
  })

  it("keeps spaces apart and deletes one space whole", () => {
    const sieve = new Sieve<Slot>({ maxEntries: 10, maxBytes: 1_000 })
    sieve.set("a", "k", slot(), 0)
    sieve.set("a:k", "", slot(), 0)
    sieve.set("b", "k", slot(), 0)
    sieve.deleteSpace("a")
    expect(sieve.get("a", "k")).toBeUndefined()
    expect(sieve.get("a:k", "")).toBeDefined()
    expect(sieve.get("b", "k")).toBeDefined()
    expect(sieve.size).toBe(2)
  })
})
