/**
 * OpenTelemetry for the shop, through Effect's integration
 * (`@effect/opentelemetry`): with `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans
 * are exported over OTLP/HTTP. Each HTTP request is a span, and the cache's
 * own spans (`strata.loader`, `strata.l2.*`) are its children.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type { Layer, Tracer } from "effect"

/** A layer installing OpenTelemetry tracing with `processor` (an OTLP exporter, or an in-memory one in tests). */
export const layer = (processor: SpanProcessor): Layer.Layer<never> =>
  NodeSdk.layer(() => ({
    resource: { serviceName: "strata-shop" },
    spanProcessor: processor,
  })) as Layer.Layer<never>

/** The OTLP/HTTP exporter layer when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter reads it), else `undefined`. */
export const layerFromEnv = (env: NodeJS.ProcessEnv = process.env): Layer.Layer<never> | undefined =>
  env.OTEL_EXPORTER_OTLP_ENDPOINT ? layer(new BatchSpanProcessor(new OTLPTraceExporter())) : undefined

/**
 * The span of the request being handled, across the handler's awaits (the
 * cache calls take it as their parent). Only used when tracing is on:
 * AsyncLocalStorage slows every await on Node 20.
 */
export const requestSpan = new AsyncLocalStorage<Tracer.AnySpan>()
