import { HttpRateLimit, RateLimiter } from "@strata/ratelimit"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"

describe("HttpRateLimit.clientIp", () => {
  const xff = (value: string | Array<string>) => ({ "x-forwarded-for": value })

  it("is the socket peer unless proxies are trusted, whatever X-Forwarded-For says", () => {
    expect(HttpRateLimit.clientIp("127.0.0.1", xff("6.6.6.6"), undefined)).toBe("127.0.0.1")
    expect(HttpRateLimit.clientIp("127.0.0.1", xff("6.6.6.6"), false)).toBe("127.0.0.1")
    expect(HttpRateLimit.clientIp("127.0.0.1", xff("6.6.6.6"), 0)).toBe("127.0.0.1")
  })

  it("with n trusted proxies, is the n-th entry from the right (a client cannot spoof past them)", () => {
    // The client sent a forged "6.6.6.6"; proxy 1 appended the client's real address, proxy 2 appended proxy 1's.
    const header = xff("6.6.6.6, 203.0.113.7, 10.0.0.2")
    expect(HttpRateLimit.clientIp("10.0.0.3", header, 2)).toBe("203.0.113.7")
    expect(HttpRateLimit.clientIp("10.0.0.3", header, 1)).toBe("10.0.0.2")
    expect(HttpRateLimit.clientIp("10.0.0.3", header, true)).toBe("10.0.0.2")
    expect(HttpRateLimit.clientIp("10.0.0.3", xff(["6.6.6.6", "203.0.113.7"]), 1)).toBe("203.0.113.7")
    expect(HttpRateLimit.clientIp("10.0.0.3", xff("203.0.113.7"), 3)).toBe("203.0.113.7")
    expect(HttpRateLimit.clientIp("10.0.0.3", {}, 1)).toBe("10.0.0.3")
  })
})

describe("HttpRateLimit.headersOf", () => {
  const limiter = RateLimiter.make({
    name: "api",
    key: Schema.String,
    algorithm: "gcra",
    limit: 10,
    window: "1 minute",
    burst: 5,
  })
  it("follows draft-ietf-httpapi-ratelimit-headers-09: RateLimit-Policy q/w, RateLimit r/t, Retry-After in s", () => {
    const now = 1_000_000
    const allowed = {
      allowed: true,
      limit: 5,
      remaining: 4,
      resetAt: now + 6_000,
      retryAfter: 0,
      source: "store",
    } as const
    expect(HttpRateLimit.headersOf(limiter, allowed, now)).toEqual({
      "RateLimit-Policy": '"api";q=5;w=60',
      RateLimit: '"api";r=4;t=6',
    })
    const denied = { ...allowed, allowed: false, remaining: 0, resetAt: now + 30_001, retryAfter: 1 }
    expect(HttpRateLimit.headersOf(limiter, denied, now)).toEqual({
      "RateLimit-Policy": '"api";q=5;w=60',
      RateLimit: '"api";r=0;t=31',
      "Retry-After": "1",
    })
  })
})
