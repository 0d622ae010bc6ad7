/** W15: heap per L1 entry, and hit latency while the garbage collector runs under churn. */
import { Effect } from "effect"
import { percentile, user } from "../measure.ts"
import { strata, Users } from "../systems.ts"
import type { Workload } from "../workload.ts"
import { result } from "./l1.ts"

const gc = () => (globalThis as { gc?: () => void }).gc?.()

export const W15: Workload = {
  id: "W15",
  name: "heap: 100k × 1 KB entries in L1 under 10 minutes of churn",
  fullOnly: true,
  run: async (context) => {
    const entries = 100_000
    const minutes = Number(process.env.W15_MINUTES ?? 10)
    gc()
    const before = process.memoryUsage().heapUsed
    const system = await strata({ l1: { maxEntries: entries, maxBytes: 1024 * 1024 * 1024 } })
    for (let i = 0; i < entries; i++) await Effect.runPromise(system.cache.set(Users, { userId: i }, user(i)))
    gc()
    const filled = process.memoryUsage().heapUsed
    const perEntry = (filled - before) / entries
    const payload = Buffer.byteLength(JSON.stringify(user(1)))
    context.log(
      `filled: ${(perEntry / 1024).toFixed(2)} KiB per entry (payload ${payload} B as JSON); churning for ${minutes} min`,
    )
    // Churn: every tick replaces 200 entries and reads 20,000, timing each read.
    const samples: Array<number> = []
    const until = performance.now() + minutes * 60_000
    let tick = 0
    while (performance.now() < until) {
      for (let i = 0; i < 200; i++) {
        const userId = (tick * 200 + i) % entries
        await Effect.runPromise(system.cache.set(Users, { userId }, user(userId)))
      }
      for (let i = 0; i < 20_000; i++) {
        const userId = (i * 7919 + tick) % entries
        const started = performance.now()
        if (system.cache.peekUnsafe(Users, { userId }) === undefined) throw new Error("missed")
        samples.push((performance.now() - started) * 1000)
      }
      if (samples.length > 5_000_000) samples.splice(0, samples.length - 5_000_000)
      tick++
      if (tick % 200 === 0) context.log(`${Math.round((until - performance.now()) / 1000)} s left`)
      await new Promise((r) => setImmediate(r))
    }
    gc()
    const after = process.memoryUsage().heapUsed
    await system.close()
    const p999 = percentile(samples, 99.9)
    return {
      ...result(
        "W15",
        context.quick ? "heap (quick)" : "heap: 100k × 1 KB entries in L1 under churn",
        ">= 0",
        "bytes per entry / payload bytes",
        "payload",
        [
          { system: "strata", metric: "heap_bytes_per_entry", value: perEntry },
          { system: "strata", metric: "heap_bytes_per_entry_after_churn", value: (after - before) / entries },
          { system: "payload", metric: "json_bytes", value: payload },
          { system: "strata", metric: "hit_p50_us", value: percentile(samples, 50) },
          { system: "strata", metric: "hit_p99_us", value: percentile(samples, 99) },
          { system: "strata", metric: "hit_p99.9_us", value: p999 },
        ],
        perEntry / payload,
      ),
      target: "report only",
      met: true,
      notes: `${minutes} min of churn; bytes per entry ${Math.round(perEntry)} for a ${payload} B payload; hit p99.9 ${p999.toFixed(2)} µs`,
    }
  },
}
