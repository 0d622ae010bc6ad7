/**
 * OpenTelemetry through `@effect/opentelemetry`: with tracing on, a request
 * is a span and the cache's spans (`strata.loader`, `strata.l2.*`) are in its
 * trace. Spans go to an in-memory exporter; L2 is a redis-server of the
 * test's own.
 */
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { RedisHarness } from "@strata/testkit/servers"
import { afterAll, beforeAll, expect, it } from "vitest"
import * as Shop from "../src/Shop.ts"
import * as Tracing from "../src/Tracing.ts"

const exporter = new InMemorySpanExporter()
let redis: RedisHarness.RedisServer
let shop: Shop.RunningShop

beforeAll(async () => {
  redis = await RedisHarness.startRedis()
  shop = await Shop.start({
    redisUrl: redis.url,
    tracing: Tracing.layer(new SimpleSpanProcessor(exporter)),
    seed: { categories: 5, brands: 5, products: 200, reviews: 200 },
    viewFlushMillis: 60_000,
  })
})
afterAll(async () => {
  await shop?.close()
  await redis?.stop()
})

it("a request's trace holds the cache's loader and L2 spans, under the request's span", async () => {
  exporter.reset()
  const response = await fetch(`${shop.url}/api/products/17`)
  expect(response.status).toBe(200)
  // Spans end asynchronously after the response is sent.
  let spans: Array<ReadableSpan> = []
  for (let i = 0; i < 100; i++) {
    spans = exporter.getFinishedSpans()
    if (spans.some((s) => s.name === "GET /api/products/:id")) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const request = spans.find((s) => s.name === "GET /api/products/:id")
  expect(request).toBeDefined()
  const traceId = request!.spanContext().traceId
  const inTrace = spans.filter((s) => s.spanContext().traceId === traceId).map((s) => s.name)
  expect(inTrace).toContain("strata.loader")
  expect(inTrace.some((name) => name.startsWith("strata.l2."))).toBe(true)
  const loader = spans.find((s) => s.name === "strata.loader" && s.spanContext().traceId === traceId)!
  expect(loader.attributes["strata.keyspace"]).toBe("shop.product:v1")
  // The loader span descends from the request span.
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]))
  let parent = loader.parentSpanContext?.spanId
  while (parent !== undefined && parent !== request!.spanContext().spanId)
    parent = byId.get(parent)?.parentSpanContext?.spanId
  expect(parent).toBe(request!.spanContext().spanId)
})
