import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { Schema } from "effect"
import { Redis } from "ioredis"
import { RateLimiterRedis } from "rate-limiter-flexible"
const url = process.env.URL!
const fixed = RateLimiter.make({ name: "bench.fixed", key: Schema.String, algorithm: "fixed-window", limit: 10_000_000, window: "1 minute" })
const limits = await createRateLimiter({ store: RedisRateStore.layer({ url, prefix: "p:" }) })
const c = new Redis(url, { enableAutoPipelining: true })
const flexible = new RateLimiterRedis({ storeClient: c, points: 10_000_000, duration: 60, keyPrefix: "rlf" })
const run = async (name: string, f: (i: number) => Promise<unknown>) => {
  const ops = 100_000
  let i = 0
  const t = performance.now()
  await Promise.all(Array.from({ length: 64 }, async () => { while (i < ops) await f(i++ % 1000) }))
  console.log(name, Math.round(ops / ((performance.now() - t) / 1000)))
}
const which = process.argv[2] ?? "both"
for (let r = 0; r < 3; r++) {
  if (which !== "flex") await run("strata", (i) => limits.consume(fixed, `u${i}`))
  if (which !== "strata") await run("flexible", (i) => flexible.consume(`u${i}`, 1))
}
await limits.close(); c.disconnect()
