import type { Server } from "node:http"
import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { rateLimit } from "@strata/ratelimit/express"
import { Schema } from "effect"
import express from "express"
import { requests } from "./node-http.ts"

export const main = async () => {
  // #region app
  const PerUser = RateLimiter.make({
    name: "api.per-user",
    key: Schema.String,
    algorithm: "token-bucket",
    limit: 3,
    window: "1 minute",
  })
  const limits = await createRateLimiter()
  const app = express()
  // Keyed by user when signed in (here a header stands in for your session), else by IP.
  app.use(
    rateLimit({
      limiter: PerUser,
      limits,
      key: (request) => (request.headers["x-user-id"] as string | undefined) ?? request.ip,
    }),
  )
  app.get("/", (_req, res) => {
    res.send("hello")
  })
  // #endregion app
  const server: Server = app.listen(0, "127.0.0.1")
  await new Promise((resolve) => server.once("listening", resolve))
  try {
    return await requests(server, 4)
  } finally {
    server.close()
    await limits.close()
  }
}
