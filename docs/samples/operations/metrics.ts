import { Cache, Keyspace } from "@strata/core"
import { Effect, Schema } from "effect"
import { PrometheusMetrics } from "effect/observability"

const Quotes = Keyspace.make({
  name: "quote",
  key: Schema.String,
  value: Schema.String,
  ttl: "1 hour",
})

// #region prometheus
// Every strata_cache_* metric, in the Prometheus text format, for a /metrics endpoint.
export const metricsText = Effect.gen(function* () {
  const cache = yield* Cache.Cache
  cache.stats() // pushes the counters into the metrics now (they are also pushed every second)
  return yield* PrometheusMetrics.format()
})
// #endregion prometheus

export const main = () =>
  Effect.runPromise(
    Effect.gen(function* () {
      const cache = yield* Cache.Cache
      yield* cache.getOrSet(Quotes, "q-1", () => Effect.succeed("Cache is king."))
      yield* cache.get(Quotes, "q-1")
      yield* cache.get(Quotes, "q-2")
      return yield* metricsText
    }).pipe(Effect.provide(Cache.layer({ name: "quotes" }))),
  )
