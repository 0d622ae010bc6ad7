import { Cache, Keyspace, MemoryStore } from "@strata/core"
import { Effect, Layer, Schema } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"

const Orders = Keyspace.make({
  name: "shop.order",
  key: Schema.Int,
  value: Schema.Struct({ id: Schema.Int, status: Schema.String }),
  ttl: "5 minutes",
})

// #region otlp
// Spans are exported over OTLP/HTTP to a collector (the OpenTelemetry Collector, Jaeger, Tempo, ...).
export const Tracing = (url: string) =>
  OtlpTracer.layer({ url, resource: { serviceName: "shop" } }).pipe(
    Layer.provide(OtlpSerialization.layerJson),
    Layer.provide(FetchHttpClient.layer),
  )

// The tracer must be there when the cache is built: it then wraps every L2 call
// (strata.l2.<operation>) and every loader call (strata.loader) in a span.
export const Live = (url: string) =>
  Cache.layer({ name: "shop", l2: MemoryStore.layer() }).pipe(Layer.provideMerge(Tracing(url)))
// #endregion otlp

export const main = (url: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const cache = yield* Cache.Cache
      return yield* cache.getOrSet(Orders, 1001, (id) => Effect.succeed({ id, status: "paid" }))
    }).pipe(Effect.withSpan("GET /orders/1001"), Effect.provide(Live(url))),
  )
