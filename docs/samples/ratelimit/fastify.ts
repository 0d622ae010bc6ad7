import type { Server } from "node:http"
import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { rateLimit } from "@strata/ratelimit/fastify"
import { Schema } from "effect"
import Fastify from "fastify"
import { requests } from "./node-http.ts"

export const main = async () => {
  // #region app
  const PerIp = RateLimiter.make({
    name: "api.fastify",
    key: Schema.String,
    algorithm: "fixed-window",
    limit: 3,
    window: "1 minute",
  })
  const limits = await createRateLimiter()
  const app = Fastify()
  app.addHook("onRequest", rateLimit({ limiter: PerIp, limits }))
  app.get("/", async () => "hello")
  // #endregion app
  await app.listen({ port: 0, host: "127.0.0.1" })
  try {
    return await requests(app.server as Server, 4)
  } finally {
    await app.close()
    await limits.close()
  }
}
