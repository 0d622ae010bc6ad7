import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { Schema } from "effect"
import { expect } from "vitest"

/** Three requests a minute per client IP, on a memory store. */
export const perIp = () =>
  RateLimiter.make({
    name: "http.per-ip",
    key: Schema.String,
    algorithm: "sliding-log",
    limit: 3,
    window: "1 minute",
  })

export const memoryLimits = () => createRateLimiter()

/** Five requests a minute per user (the `x-user` header), on a memory store: the second limiter on a route. */
export const perUser = () =>
  RateLimiter.make({
    name: "http.per-user",
    key: Schema.String,
    algorithm: "sliding-log",
    limit: 5,
    window: "1 minute",
  })

/**
 * The checks of a route behind two limiters (3 per IP, then 5 per user), at
 * `url`: both items in each list header, and the 4th request denied by the
 * first limiter before the second runs.
 */
export const expectBothLimiters = async (url: string) => {
  const responses = await hit(`${url}/`, 4, { "x-user": "u1" })
  const items = responses.map((r) => r.rateLimit?.split(", ").map((item) => item.split(";")[0]))
  expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429])
  expect(items.slice(0, 3)).toEqual(Array(3).fill(['"http.per-ip"', '"http.per-user"']))
  expect(items[3]).toEqual(['"http.per-ip"'])
  expect(responses[0]!.policy).toBe('"http.per-ip";q=3;w=60, "http.per-user";q=5;w=60')
}

/** The user key of the second limiter. */
export const userKey = (r: { readonly headers: Record<string, string | Array<string> | undefined> }) =>
  r.headers["x-user"] as string | undefined

/** The base URL of a listening server (loopback, port chosen by the system). */
export const baseUrl = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`

export const listen = (server: Server) =>
  new Promise<string>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve(baseUrl(server)))
  })

export const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections?.()
    server.close(() => resolve())
  })

/** Sends `n` GETs one after another; returns status, the rate-limit headers and the body of each. */
export const hit = async (url: string, n: number, headers: Record<string, string> = {}) => {
  const out = []
  for (let i = 0; i < n; i++) {
    const response = await fetch(url, { headers })
    out.push({
      status: response.status,
      rateLimit: response.headers.get("ratelimit"),
      policy: response.headers.get("ratelimit-policy"),
      retryAfter: response.headers.get("retry-after"),
      body: await response.text(),
    })
  }
  return out
}

/**
 * The checks every middleware must pass on a real server: 3 pass with the
 * IETF headers counting down, the 4th is a 429 with Retry-After; a skipped
 * path is never counted; X-Forwarded-For is ignored unless a proxy is trusted.
 */
export const expectLimited = (responses: Awaited<ReturnType<typeof hit>>) => {
  const statuses = responses.map((r) => r.status)
  const rateLimits = responses.map((r) => r.rateLimit)
  return { statuses, rateLimits, last: responses.at(-1)! }
}
