import { describe, expect, it } from "vitest"
import * as Policy from "../../src/internal/policy.ts"

const request = { method: "GET", url: "http://127.0.0.1/x", headers: {} }
const policyOf = (cacheControl: string, shared = true) =>
  Policy.create(request, 200, { "cache-control": cacheControl }, shared)

describe("policy", () => {
  it("keyspace freshness ignores Cache-Control", () => {
    expect(Policy.lifetimes(policyOf("no-store"), "keyspace", 5_000, 1_000)).toEqual({
      fresh: 5_000,
      grace: 1_000,
    })
  })

  it("cache-control freshness is max-age capped by the keyspace ttl (RFC 9111 §4.2.1)", () => {
    expect(Policy.lifetimes(policyOf("max-age=60"), "cache-control", 10_000, 0).fresh).toBe(10_000)
    // Less the time the policy has been held (its age), a few ms here.
    const fresh = Policy.lifetimes(policyOf("max-age=2"), "cache-control", 10_000, 0).fresh
    expect(fresh).toBeGreaterThan(1_900)
    expect(fresh).toBeLessThanOrEqual(2_000)
  })

  it("s-maxage counts only in a shared cache (RFC 9111 §5.2.2.10)", () => {
    // Rounded to 500 ms: the policy's age (a few ms) is taken off.
    const shared = Policy.lifetimes(policyOf("max-age=5, s-maxage=1"), "cache-control", 60_000, 0).fresh
    const own = Policy.lifetimes(policyOf("max-age=5, s-maxage=1", false), "cache-control", 60_000, 0).fresh
    expect([Math.round(shared / 500) * 500, Math.round(own / 500) * 500]).toEqual([1_000, 5_000])
  })

  it("grace is the longer of staleFor and stale-if-error / stale-while-revalidate (RFC 5861)", () => {
    // Within a few ms: the policy's age is read once for the freshness and once for the time to live.
    const grace = Policy.lifetimes(policyOf("max-age=1, stale-if-error=30"), "cache-control", 60_000, 0).grace
    expect(Math.round(grace / 500) * 500).toBe(30_000)
    expect(
      Policy.lifetimes(policyOf("max-age=1, stale-if-error=30"), "cache-control", 60_000, 90_000).grace,
    ).toBe(90_000)
  })

  it("a response fresh for a year is kept as long as the cache can keep anything (ttl + staleFor under 2^31 ms)", () => {
    for (const header of ["public, max-age=31536000, immutable", "s-maxage=31536000", "max-age=3000000"]) {
      const { fresh, grace } = Policy.lifetimes(policyOf(header), "cache-control", 60_000, 3_600_000)
      expect(fresh).toBe(60_000)
      expect(fresh + grace + 3_600_000).toBeLessThan(2 ** 31)
      expect(fresh + grace + 3_600_000).toBeGreaterThan(2 ** 31 - 10)
    }
  })

  it("survives serialisation: a restored policy gives the same answers", () => {
    const policy = policyOf("max-age=60, stale-while-revalidate=30")
    const restored = Policy.restore(Policy.serialise(policy))
    expect([restored.maxAge(), restored.storable()]).toEqual([policy.maxAge(), policy.storable()])
  })

  it("reads a stored response's state: fresh, stale-while-revalidate, stale", () => {
    const now = Date.now()
    const stored = (cacheControl: string, age: number) => ({
      status: 200,
      headers: [],
      body: new Uint8Array(0),
      storedAt: now,
      freshUntil: now + 1_000,
      graceUntil: now + 1_000,
      policy: Policy.serialise(
        Policy.create(request, 200, { "cache-control": cacheControl, age: String(age) }, true),
      ),
    })
    expect(Policy.state(stored("max-age=60", 0), request, "cache-control", now)).toBe("fresh")
    expect(
      Policy.state(stored("max-age=60, stale-while-revalidate=30", 70), request, "cache-control", now),
    ).toBe("stale-while-revalidate")
    expect(Policy.state(stored("max-age=60", 70), request, "cache-control", now)).toBe("stale")
    expect(Policy.state(stored("max-age=60", 0), request, "keyspace", now + 2_000)).toBe("stale")
  })
})
