/** W8–W12: several processes on one Redis: mixed traffic, stampedes, leases, invalidation propagation. */
import type { Bus } from "@strata/core"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { interleave, median, percentile, user } from "../measure.ts"
import { startWorkers, type Worker } from "../processes.ts"
import { meets, round } from "../report.ts"
import { strata, Users } from "../systems.ts"
import type { Context, Workload } from "../workload.ts"
import { simulateLru, simulateSieve, zipfSampler } from "../zipf.ts"
import { result } from "./l1.ts"

const envFor = (context: Context, system: string, extra: Record<string, string> = {}) => ({
  BENCH_SYSTEM: system,
  BENCH_REDIS_URL: context.redis.url,
  BENCH_REDIS_PORT: String(context.redis.port),
  BENCH_PREFIX: context.prefix,
  ...extra,
})

const exitAll = (workers: ReadonlyArray<Worker>) => Promise.all(workers.map((w) => w.exit()))

export const W8: Workload = {
  id: "W8",
  name: "mixed Zipf traffic (α 0.99, 90/10 read/write), L1 = 1% of the keys, 4 processes",
  run: async (context) => {
    const keys = context.scale(500_000, 50_000)
    const l1Entries = keys / 100
    const seconds = context.scale(8, 1.5)
    const workers = await startWorkers(4, envFor(context, "strata", { BENCH_L1_ENTRIES: String(l1Entries) }))
    const run = async (config: "tiered" | "l2only") => {
      const results = await Promise.all(
        workers.map((w, i) =>
          w.call<{ ops: number; l1Hits: number; l2Hits: number; misses: number }>("zipf", {
            seconds,
            keys,
            alpha: 0.99,
            readRatio: 0.9,
            seed: 1_000 + i,
            config,
            concurrency: 32,
          }),
        ),
      )
      const ops = results.reduce((a, r) => a + r.ops, 0)
      const l1Hits = results.reduce((a, r) => a + r.l1Hits, 0)
      return { opsPerSecond: ops / seconds, l1HitRatio: l1Hits / (ops * 0.9) }
    }
    const tieredRatios: Array<number> = []
    const samples = await interleave(context.rounds, {
      tiered: async () => {
        const r = await run("tiered")
        tieredRatios.push(r.l1HitRatio)
        return r.opsPerSecond
      },
      l2only: async () => (await run("l2only")).opsPerSecond,
    })
    await exitAll(workers)
    const requests = context.scale(2_000_000, 300_000)
    const lru = simulateLru(zipfSampler(keys, 0.99, 7), l1Entries, requests)
    const sieve = simulateSieve(zipfSampler(keys, 0.99, 7), l1Entries, requests)
    const t = median(samples.tiered)
    const l = median(samples.l2only)
    return result(
      "W8",
      W8.name,
      ">= 2",
      "tiered ops/s / L2-only ops/s (4 processes)",
      "strata-l2-only",
      [
        { system: "strata-tiered", metric: "ops_per_s", value: t },
        { system: "strata-l2-only", metric: "ops_per_s", value: l },
        { system: "strata-tiered", metric: "l1_hit_ratio", value: median(tieredRatios) },
        { system: "sieve-simulator", metric: "l1_hit_ratio", value: sieve },
        { system: "lru-simulator", metric: "l1_hit_ratio", value: lru },
      ],
      t / l,
      `${keys} keys, L1 ${l1Entries} entries per process; simulated hit ratio SIEVE ${round(sieve)}, LRU ${round(lru)} (reads only, one process)`,
    )
  },
}

interface StampedeReport {
  readonly loaderCalls: number
  readonly startedAt: number
  /** When this process's loader returned, if it ran one. */
  readonly loaderEndedAt: number | undefined
  readonly lastDoneAt: number
}

/**
 * Runs `bursts` stampedes of `callers` callers spread over the workers.
 * Returns per burst: the loader calls, the last waiter's lateness after the
 * first loader returned (`afterLoader`), and its lateness counted from the
 * first caller's start minus the loader time (`sinceStart`, which also holds
 * the time to issue the callers and reach the loader).
 */
const stampedes = async (
  workers: ReadonlyArray<Worker>,
  callers: number,
  bursts: number,
  loaderMillis: number,
  keyBase: number,
) => {
  const loaderCalls: Array<number> = []
  const afterLoader: Array<number> = []
  const sinceStart: Array<number> = []
  for (let burst = 0; burst < bursts; burst++) {
    const reports = await Promise.all(
      workers.map((w) =>
        w.call<StampedeReport>("stampede", {
          key: keyBase + burst,
          callers: callers / workers.length,
          loaderMillis,
        }),
      ),
    )
    loaderCalls.push(reports.reduce((a, r) => a + r.loaderCalls, 0))
    const start = Math.min(...reports.map((r) => r.startedAt))
    const lastDone = Math.max(...reports.map((r) => r.lastDoneAt))
    const loaderEnd = Math.min(
      ...reports.flatMap((r) => (r.loaderEndedAt === undefined ? [] : [r.loaderEndedAt])),
    )
    afterLoader.push(lastDone - loaderEnd)
    sinceStart.push(lastDone - start - loaderMillis)
  }
  return { loaderCalls, afterLoader, sinceStart }
}

export const W9: Workload = {
  id: "W9",
  name: "cold-key stampede: 1,000 and 10,000 callers over 4 processes, 50 ms loader",
  run: async (context) => {
    const bursts = context.scale(20, 3)
    const peerBursts = context.scale(5, 1)
    const rows: Array<{ system: string; metric: string; value: number }> = []
    let exactlyOne = true
    let worstLateness = 0
    const strataWorkers = await startWorkers(4, envFor(context, "strata"))
    for (const callers of [context.scale(1_000, 1_000), context.scale(10_000, 10_000)]) {
      context.log(`strata: ${bursts} bursts of ${callers} callers`)
      const { loaderCalls, afterLoader, sinceStart } = await stampedes(
        strataWorkers,
        callers,
        bursts,
        50,
        callers * 1_000,
      )
      exactlyOne &&= loaderCalls.every((n) => n === 1)
      worstLateness = Math.max(worstLateness, percentile(afterLoader, 50))
      rows.push(
        { system: "strata", metric: `loader_calls_max_${callers}`, value: Math.max(...loaderCalls) },
        {
          system: "strata",
          metric: `last_waiter_after_loader_ms_p50_${callers}`,
          value: percentile(afterLoader, 50),
        },
        {
          system: "strata",
          metric: `last_waiter_after_loader_ms_max_${callers}`,
          value: Math.max(...afterLoader),
        },
        {
          system: "strata",
          metric: `last_waiter_since_start_minus_loader_ms_p50_${callers}`,
          value: percentile(sinceStart, 50),
        },
      )
    }
    await exitAll(strataWorkers)
    for (const [index, system] of ["bentocache", "cache-manager", "cacheable"].entries()) {
      const workers = await startWorkers(4, envFor(context, system))
      for (const callers of [context.scale(1_000, 1_000), context.scale(10_000, 10_000)]) {
        context.log(`${system}: ${peerBursts} bursts of ${callers} callers`)
        // Keys of their own per system: cache-manager and cacheable share Keyv's namespace in Redis.
        const keyBase = callers * 1_000 + 500_000 + (index + 1) * 100_000
        const { loaderCalls, afterLoader, sinceStart } = await stampedes(
          workers,
          callers,
          peerBursts,
          50,
          keyBase,
        )
        rows.push(
          {
            system,
            metric: `loader_calls_mean_${callers}`,
            value: loaderCalls.reduce((a, b) => a + b, 0) / loaderCalls.length,
          },
          {
            system,
            metric: `last_waiter_after_loader_ms_p50_${callers}`,
            value: percentile(afterLoader, 50),
          },
          {
            system,
            metric: `last_waiter_since_start_minus_loader_ms_p50_${callers}`,
            value: percentile(sinceStart, 50),
          },
        )
      }
      await exitAll(workers)
    }
    return {
      ...result(
        "W9",
        W9.name,
        "<= 10",
        "median over bursts of (last waiter done − first loader returned), ms; worst of 1k and 10k",
        "loader-time",
        rows,
        worstLateness,
      ),
      target: "exactly 1 loader call in every burst; waiters done <= loader + 10 ms",
      met: exactlyOne && worstLateness <= 10,
      notes: `exactly one loader call in every strata burst: ${exactlyOne}`,
    }
  },
}

export const W10: Workload = {
  id: "W10",
  name: "cost of stampede protection on a cold single call",
  run: async (context) => {
    // Both without a bus, so the difference is the lease alone (taking and releasing it); the bus's own
    // cost, receiving messages in the same process, is W12's.
    const withLease = await strata({
      redisUrl: context.redis.url,
      prefix: `${context.prefix}a:`,
      l1: false,
      bus: false,
    })
    const withoutLease = await strata({
      redisUrl: context.redis.url,
      prefix: `${context.prefix}b:`,
      l1: false,
      lease: false,
      bus: false,
    })
    const raw = new Redis(context.redis.port, "127.0.0.1")
    let key = 0
    const cold = (system: typeof withLease, n: number) => async () => {
      const samples: Array<number> = []
      for (let i = 0; i < n; i++) {
        const userId = key++
        const started = performance.now()
        await Effect.runPromise(system.cache.getOrSet(Users, { userId }, Effect.succeed(user(userId))))
        samples.push((performance.now() - started) * 1000)
      }
      return percentile(samples, 50)
    }
    const ping = async () => {
      const samples: Array<number> = []
      for (let i = 0; i < 500; i++) {
        const started = performance.now()
        await raw.ping()
        samples.push((performance.now() - started) * 1000)
      }
      return percentile(samples, 50)
    }
    const n = context.scale(1_000, 200)
    const samples = await interleave(context.rounds, {
      lease: cold(withLease, n),
      noLease: cold(withoutLease, n),
      rtt: ping,
    })
    await withLease.close()
    await withoutLease.close()
    raw.disconnect()
    const extra = median(samples.lease) - median(samples.noLease)
    const rtt = median(samples.rtt)
    return result(
      "W10",
      W10.name,
      "<= 3",
      "(cold getOrSet p50 with leases − without) / PING round trip p50",
      "no-lease",
      [
        { system: "strata-lease", metric: "p50_us", value: median(samples.lease) },
        { system: "strata-no-lease", metric: "p50_us", value: median(samples.noLease) },
        { system: "redis-ping", metric: "p50_us", value: rtt },
      ],
      extra / rtt,
    )
  },
}

export const W11: Workload = {
  id: "W11",
  name: "lease holder killed mid-load",
  run: async (context) => {
    const leaseTtl = 2_000
    const poll = 50
    const raw = new Redis(context.redis.port, "127.0.0.1")
    const elapsed: Array<number> = []
    let allDone = true
    for (let round = 0; round < context.scale(5, 2); round++) {
      const [holder, waiter] = await startWorkers(2, envFor(context, "strata"))
      const key = 900_000 + round
      // The store's lease key for generation 0 (this run's prefix is fresh, never cleared).
      const dataKey = `${context.prefix}${Users.id}:0:${Users.storeKey({ userId: key })}`
      const leaseKey = `${context.prefix}${Users.id}:lease:0:{${dataKey}}`
      void holder!.call("getOrSet", { key, loaderMillis: 60_000 }).catch(() => undefined)
      let takenAt = 0
      const giveUpAt = Date.now() + 10_000
      while (takenAt === 0) {
        if ((await raw.exists(leaseKey)) === 1) takenAt = performance.timeOrigin + performance.now()
        else if (Date.now() > giveUpAt)
          throw new Error(
            `W11: the holder's lease ${leaseKey} never appeared (has RedisStore's lease key changed?)`,
          )
        else await new Promise((r) => setTimeout(r, 2))
      }
      const waiting = waiter!.call<{ doneAt: number; loaderCalls: number; ok: boolean }>("getOrSet", {
        key,
        loaderMillis: 10,
      })
      await new Promise((r) => setTimeout(r, 100))
      holder!.kill()
      const outcome = await Promise.race([
        waiting,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000)),
      ])
      if (outcome === undefined || !outcome.ok || outcome.loaderCalls !== 1) allDone = false
      else elapsed.push(outcome.doneAt - takenAt)
      await waiter!.exit()
    }
    raw.disconnect()
    const bound = leaseTtl + poll
    const worst = elapsed.length === 0 ? Number.POSITIVE_INFINITY : Math.max(...elapsed)
    return {
      ...result(
        "W11",
        W11.name,
        "<= 1",
        "slowest (waiter done − lease taken) / (lease TTL + one poll)",
        "lease-ttl-plus-poll",
        [
          { system: "strata", metric: "waiter_done_after_lease_taken_ms_max", value: worst },
          {
            system: "strata",
            metric: "waiter_done_after_lease_taken_ms_median",
            value: elapsed.length === 0 ? 0 : median(elapsed),
          },
          { system: "lease-ttl-plus-poll", metric: "ms", value: bound },
        ],
        worst / bound,
      ),
      met: allDone && worst <= bound + 10,
      notes: `lease TTL ${leaseTtl} ms, poll ${poll} ms, waiter's loader 10 ms; no caller hung: ${allDone}`,
    }
  },
}

export const W12: Workload = {
  id: "W12",
  name: "invalidation propagation A → B's L1",
  run: async (context) => {
    const a = await strata({ redisUrl: context.redis.url, prefix: context.prefix })
    const b = await strata({ redisUrl: context.redis.url, prefix: context.prefix })
    // B's bus gets a second listener that stamps every InvalidateKeys it delivers (the cache's own listener runs in the same dispatch).
    const arrivals = new Map<string, number>()
    let received = 0
    await Effect.runPromise(
      Effect.forkDetach(
        Effect.scoped(
          Effect.andThen(
            b.bus!.subscribe((event) => {
              if (event._tag !== "InvalidateKeys") return
              received += event.keys.length
              for (const key of event.keys) arrivals.set(key, performance.now())
            }),
            Effect.never,
          ),
        ),
      ),
    )
    const publisher = new Redis(context.redis.port, "127.0.0.1")
    const subscriber = new Redis(context.redis.port, "127.0.0.1")
    let rawArrival = 0
    await subscriber.subscribe(`${context.prefix}raw-channel`)
    subscriber.on("message", () => {
      rawArrival = performance.now()
    })
    const n = context.scale(1_000, 200)
    const strataLatency = async () => {
      const out: Array<number> = []
      for (let i = 0; i < n; i++) {
        const storeKey = Users.storeKey({ userId: i })
        arrivals.delete(storeKey)
        await Effect.runPromise(a.cache.set(Users, { userId: i }, user(i)))
        const returned = performance.now()
        while (!arrivals.has(storeKey)) await new Promise((r) => setImmediate(r))
        out.push((arrivals.get(storeKey)! - returned) * 1000)
      }
      return out
    }
    const rawLatency = async () => {
      const out: Array<number> = []
      for (let i = 0; i < n; i++) {
        rawArrival = 0
        const sent = performance.now()
        await publisher.publish(`${context.prefix}raw-channel`, "k")
        while (rawArrival === 0) await new Promise((r) => setImmediate(r))
        out.push((rawArrival - sent) * 1000)
      }
      return out
    }
    const strataSamples: Array<number> = []
    const rawSamples: Array<number> = []
    for (let round = 0; round < context.rounds; round++) {
      strataSamples.push(...(await strataLatency()))
      rawSamples.push(...(await rawLatency()))
    }
    // Throughput: A's bus publishes batches of invalidations as fast as it can; B counts what arrives.
    const total = context.scale(500_000, 50_000)
    received = 0
    const started = performance.now()
    for (let sent = 0; sent < total; sent += 500) {
      const messages: Array<Bus.Message> = Array.from({ length: 500 }, (_, i) => ({
        _tag: "InvalidateKeys",
        space: "bench.flood:v1",
        keys: [`k${sent + i}`],
      }))
      await Effect.runPromise(a.bus!.publish(messages))
      await new Promise((r) => setImmediate(r))
    }
    while (received < total && performance.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 5))
    const perSecond = received / ((performance.now() - started) / 1000)
    publisher.disconnect()
    subscriber.disconnect()
    await a.close()
    await b.close()
    const p50 = percentile(strataSamples, 50) / percentile(rawSamples, 50)
    const p99 = percentile(strataSamples, 99) / percentile(rawSamples, 99)
    const rows = (system: string, values: Array<number>) => [
      { system, metric: "p50_us", value: percentile(values, 50) },
      { system, metric: "p99_us", value: percentile(values, 99) },
      { system, metric: "p99.9_us", value: percentile(values, 99.9) },
    ]
    return {
      ...result(
        "W12",
        W12.name,
        "<= 2",
        "strata p50 (A's set returned → B's listener) / raw PUBLISH → subscriber callback p50",
        "raw-pubsub",
        [
          ...rows("strata", strataSamples),
          ...rows("raw-pubsub", rawSamples),
          { system: "strata", metric: "invalidations_received_per_s", value: perSecond },
          { system: "strata", metric: "invalidations_lost", value: total - received },
        ],
        p50,
      ),
      target: "p50 <= 2, p99 <= 3; >= 50k invalidations/s received without loss",
      met: meets(p50, "<= 2") && meets(p99, "<= 3") && perSecond >= 50_000 && received === total,
      notes: `p99 ratio ${round(p99)}; ${round(perSecond)} invalidations/s received, ${total - received} lost of ${total}`,
    }
  },
}
