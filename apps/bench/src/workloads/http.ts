/**
 * H1: what a response-cache hit costs per request in Fastify, against the
 * same app's bare route, in the same run. Requests go through
 * `fastify.inject` (Fastify's in-process request injection: the full
 * routing, hooks and serialisation, no socket), so the ratio is the
 * framework's own work with and without the cache, not loopback noise.
 * The cache is L1 only: a hit never leaves the process, whatever the tiers.
 */
import { createCache } from "@strata/core"
import { HttpKeyspace, ResponseCache } from "@strata/http"
import { responseCache } from "@strata/http/fastify"
import Fastify, { type FastifyInstance } from "fastify"
import { interleave, median, user } from "../measure.ts"
import type { Workload } from "../workload.ts"
import { result } from "./l1.ts"

const PAGES = 100

const app = async (cached: ResponseCache.ResponseCache | undefined): Promise<FastifyInstance> => {
  const instance = Fastify()
  if (cached !== undefined) await instance.register(responseCache, { cache: cached })
  instance.get<{ Params: { id: string } }>("/products/:id", async (request) =>
    user(Number(request.params.id)),
  )
  await instance.ready()
  return instance
}

/** Nanoseconds per injected GET over `ops` sequential requests, checking each status and X-Cache. */
const nsPerRequest = async (instance: FastifyInstance, ops: number, expectHit: boolean) => {
  const started = performance.now()
  for (let i = 0; i < ops; i++) {
    const response = await instance.inject({ method: "GET", url: `/products/${i % PAGES}` })
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
    if (expectHit && response.headers["x-cache"] !== "HIT")
      throw new Error(`expected a hit, got ${response.headers["x-cache"]}`)
  }
  return ((performance.now() - started) * 1e6) / ops
}

export const H1: Workload = {
  id: "H1",
  name: "Fastify response-cache hit against the bare route (fastify.inject)",
  run: async (context) => {
    const cache = await createCache({ metricsIntervalMillis: 60_000 })
    const pages = ResponseCache.make({
      cache,
      keyspace: HttpKeyspace.make({ name: "bench.pages", ttl: "1 hour" }),
    })
    const bare = await app(undefined)
    const cached = await app(pages)
    for (let i = 0; i < PAGES; i++) await cached.inject({ method: "GET", url: `/products/${i}` })
    const ops = context.scale(20_000, 5_000)
    const samples = await interleave(context.rounds, {
      hit: () => nsPerRequest(cached, ops, true),
      bare: () => nsPerRequest(bare, ops, false),
    })
    await bare.close()
    await cached.close()
    await cache.close()
    const h = median(samples.hit)
    const b = median(samples.bare)
    return result(
      "H1",
      H1.name,
      "<= 1.5",
      "ns per cached hit / ns per bare route request (fastify.inject, same run)",
      "bare-route",
      [
        { system: "cache-hit", metric: "ns_per_op", value: h },
        { system: "bare-route", metric: "ns_per_op", value: b },
      ],
      h / b,
      "fastify.inject (no socket); L1-only cache; 100 pages of ~1 KB JSON",
    )
  },
}
