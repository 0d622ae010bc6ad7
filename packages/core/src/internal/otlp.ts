/**
 * The facade's OTLP tracer, loaded only when `createCache` is given `otlp`
 * (its HTTP client and serializer are not worth loading otherwise).
 */
import { Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"
import type { OtlpOptions } from "../FacadeObservability.ts"

/** Effect's OTLP tracer over fetch, exporting every `strata.l2.*` and `strata.loader` span to `options.url`. */
export const otlpLayer = (options: OtlpOptions): Layer.Layer<never> =>
  OtlpTracer.layer({ url: options.url, resource: { serviceName: options.serviceName ?? "strata" } }).pipe(
    Layer.provide(OtlpSerialization.layerJson),
    Layer.provide(FetchHttpClient.layer),
  )
