import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { rateLimit } from "@strata/ratelimit/node"
import { Schema } from "effect"

export const main = async () => {
  // #region server
  const PerIp = RateLimiter.make({
    name: "site.per-ip",
    key: Schema.String,
    algorithm: "sliding-window",
    limit: 3,
    window: "1 minute",
  })
  const limits = await createRateLimiter() // or { store: RedisRateStore.layer({ url }) }
  // Behind one reverse proxy you run: trustProxy: 1 (X-Forwarded-For is ignored otherwise).
  const limit = rateLimit({ limiter: PerIp, limits, skip: (request) => request.url === "/health" })
  const server = createServer(async (req, res) => {
    if (!(await limit(req, res))) return // answered 429 with Retry-After
    res.end("hello")
  })
  // #endregion server
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  try {
    return await requests(server, 4)
  } finally {
    server.close()
    await limits.close()
  }
}

/** `n` GETs of `/`: the status and `RateLimit` header of each. */
export const requests = async (server: Server, n: number) => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const out: Array<{ status: number; rateLimit: string | null; retryAfter: string | null }> = []
  for (let i = 0; i < n; i++) {
    const response = await fetch(url)
    await response.text()
    out.push({
      status: response.status,
      rateLimit: response.headers.get("ratelimit"),
      retryAfter: response.headers.get("retry-after"),
    })
  }
  return out
}
