import type { Server } from "node:http"
import { serve } from "@hono/node-server"
import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { rateLimit } from "@strata/ratelimit/hono"
import { Schema } from "effect"
import { Hono } from "hono"
import { requests } from "./node-http.ts"

export const main = async () => {
  // #region app
  const PerIp = RateLimiter.make({
    name: "api.hono",
    key: Schema.String,
    algorithm: "gcra",
    limit: 3,
    window: "1 minute",
  })
  const limits = await createRateLimiter()
  const app = new Hono()
  // On @hono/node-server the socket address is read for you; elsewhere pass `peer`.
  app.use(rateLimit({ limiter: PerIp, limits }))
  app.get("/", (c) => c.text("hello"))
  // #endregion app
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(started as Server),
    )
  })
  try {
    return await requests(server, 4)
  } finally {
    server.close()
    await limits.close()
  }
}
