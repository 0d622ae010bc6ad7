/**
 * A worker process: one Redis rate store, driven over IPC by
 * RedisRateStore.multiprocess.test.ts. Its wall clock is shifted by
 * STRATA_CLOCK_OFFSET_MS (minutes, in the test) to show that only Redis's
 * clock decides.
 */
import { RateLimiter } from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { WorkerProcess } from "@strata/testkit/servers"
import { Effect, Exit, Scope } from "effect"
import { limiterOf, runWith } from "../redisHelpers.ts"

const offset = Number(process.env.STRATA_CLOCK_OFFSET_MS ?? "0")
const realNow = Date.now
Date.now = () => realNow() + offset

const scope = Effect.runSync(Scope.make())
const store = await Effect.runPromise(
  Scope.provide(
    RedisRateStore.make({ url: process.env.STRATA_REDIS_URL!, commandTimeoutMillis: 2_000 }),
    scope,
  ),
)
const run = runWith(store)

interface Hammer {
  readonly algorithm: Parameters<typeof limiterOf>[0]
  readonly key: string
  readonly limit: number
  readonly windowMillis: number
  readonly burst?: number
  readonly requests: number
  readonly concurrency: number
}

WorkerProcess.serve(async (command) => {
  if (command.op === "exit") {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    setTimeout(() => process.exit(0), 10)
    return "bye"
  }
  if (command.op === "hammer") {
    const h = command as unknown as Hammer
    const limiter = limiterOf(h.algorithm, {
      limit: h.limit,
      windowMillis: h.windowMillis,
      ...(h.burst === undefined ? {} : { burst: h.burst }),
    })
    let admitted = 0
    let denied = 0
    let sent = 0
    const lane = async () => {
      while (sent < h.requests) {
        sent++
        const decision = await run(RateLimiter.consume(limiter, h.key))
        if (decision.allowed) admitted++
        else denied++
      }
    }
    await Promise.all(Array.from({ length: h.concurrency }, lane))
    return { admitted, denied }
  }
  throw new Error(`unknown op ${command.op}`)
})
