/**
 * R1: rate-limit decisions on Redis. Strata's fixed-window limiter (one Lua
 * script call per decision, through the Promise facade) against
 * rate-limiter-flexible's `RateLimiterRedis` (also one Lua call: SET NX +
 * INCRBY + PTTL) and the floor: a bare `EVALSHA` of a minimal fixed-window
 * script (INCRBY, PEXPIRE on the first unit) on a raw ioredis client. All on
 * the same server, autopipelined, interleaved in the same run. Strata's GCRA
 * is measured beside them for reference.
 */
import { createRateLimiter, RateLimiter } from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { Schema } from "effect"
import { Redis } from "ioredis"
import { RateLimiterRedis } from "rate-limiter-flexible"
import { interleave, interleaveLatencies, latencies, median, percentile, throughput } from "../measure.ts"
import { meets, round } from "../report.ts"
import type { Workload } from "../workload.ts"

const KEYS = 1_000
// High enough that every decision admits: the comparison is of the decision path, not of denials.
const LIMIT = 10_000_000

const FLOOR = `local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`

export const R1: Workload = {
  id: "R1",
  name: "Rate-limit decisions on Redis vs rate-limiter-flexible and a raw EVALSHA floor",
  run: async ({ redis, prefix, scale, rounds, log }) => {
    const fixed = RateLimiter.make({
      name: "bench.fixed",
      key: Schema.String,
      algorithm: "fixed-window",
      limit: LIMIT,
      window: "1 minute",
    })
    const gcra = RateLimiter.make({
      name: "bench.gcra",
      key: Schema.String,
      algorithm: "gcra",
      limit: LIMIT,
      window: "1 minute",
    })
    const limits = await createRateLimiter({ store: RedisRateStore.layer({ url: redis.url, prefix }) })
    const flexibleClient = new Redis(redis.port, "127.0.0.1", { enableAutoPipelining: true })
    const flexible = new RateLimiterRedis({
      storeClient: flexibleClient,
      points: LIMIT,
      duration: 60,
      keyPrefix: `${prefix}rlf`,
    })
    const raw = new Redis(redis.port, "127.0.0.1", { enableAutoPipelining: true })
    raw.defineCommand("floorFixed", { lua: FLOOR, numberOfKeys: 1 })
    const floorCall = (
      raw as unknown as { floorFixed: (k: string, n: number, ms: number) => Promise<number> }
    ).floorFixed
    const key = (i: number) => `u${i % KEYS}`
    const calls = {
      strata: async (i: number) => {
        if (!(await limits.consume(fixed, key(i))).allowed) throw new Error("strata denied")
      },
      flexible: async (i: number) => {
        await flexible.consume(key(i), 1)
      },
      floor: async (i: number) => {
        await floorCall.call(raw, `${prefix}floor:${key(i)}`, 1, 60_000)
      },
      strataGcra: async (i: number) => {
        if (!(await limits.consume(gcra, key(i))).allowed) throw new Error("strata gcra denied")
      },
    }
    try {
      const ops = scale(40_000, 8_000)
      const rates = await interleave(rounds, {
        strata: () => throughput(ops, 64, calls.strata),
        flexible: () => throughput(ops, 64, calls.flexible),
        floor: () => throughput(ops, 64, calls.floor),
        strataGcra: () => throughput(ops, 64, calls.strataGcra),
      })
      const sequential = scale(3_000, 600)
      const lat = await interleaveLatencies(rounds, {
        strata: () => latencies(sequential, calls.strata),
        flexible: () => latencies(sequential, calls.flexible),
        floor: () => latencies(sequential, calls.floor),
        strataGcra: () => latencies(sequential, calls.strataGcra),
      })
      const rows = (Object.keys(rates) as Array<keyof typeof rates>).flatMap((system) => [
        { system, metric: "decisions_per_s_64", value: round(median(rates[system])) },
        { system, metric: "p50_us", value: round(percentile(lat[system], 50)) },
        { system, metric: "p99_us", value: round(percentile(lat[system], 99)) },
      ])
      const ratio = median(rates.strata) / median(rates.flexible)
      const ofFloor = median(rates.strata) / median(rates.floor)
      const p50 = percentile(lat.strata, 50) / percentile(lat.flexible, 50)
      const p99 = percentile(lat.strata, 99) / percentile(lat.flexible, 99)
      log(
        `decisions/s: strata ${round(median(rates.strata))}, rate-limiter-flexible ${round(median(rates.flexible))}, EVALSHA floor ${round(median(rates.floor))}, strata gcra ${round(median(rates.strataGcra))}`,
      )
      const target = ">= 0.8"
      return {
        id: "R1",
        name: R1.name,
        rows,
        baseline: "rate-limiter-flexible",
        ratio: round(ratio),
        target,
        met: meets(ratio, target),
        ratioOf:
          "strata fixed-window decisions/s / rate-limiter-flexible RateLimiterRedis decisions/s (64 in flight)",
        notes: `strata / EVALSHA floor ${round(ofFloor)}; p50 ratio vs flexible ${round(p50)}, p99 ratio ${round(p99)}`,
      }
    } finally {
      await limits.close()
      flexibleClient.disconnect()
      raw.disconnect()
    }
  },
}
