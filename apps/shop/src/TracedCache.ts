/**
 * The cache engine built on the Effect API when tracing is on: it is built
 * where the OpenTelemetry tracer is installed (so its spans are on), and
 * every call runs with the current request's span as its parent. Without
 * tracing the shop takes the engine of the Promise facade (`createCache`).
 */
import { Cache, type Facade } from "@strata/core"
import { Cause, Effect, Exit, Layer, ManagedRuntime } from "effect"
import type { ShopCache } from "./Context.ts"
import { requestSpan } from "./Tracing.ts"

/** Builds the cache of `options` under the tracing layer `tracing` (all of `ShopCache` but the facade). */
export const make = async (
  options: Facade.CreateCacheOptions,
  tracing: Layer.Layer<never>,
): Promise<Omit<ShopCache, "facade">> => {
  const { l2, bus, loaderCycles: _, ...rest } = options
  const runtime = ManagedRuntime.make(
    Cache.layer({ ...rest, spans: true, l2, bus } as Cache.LayerOptions<unknown, never, unknown, never>).pipe(
      Layer.provideMerge(tracing),
    ) as Layer.Layer<Cache.Cache, unknown>,
  )
  const service = await runtime.runPromise(Effect.service(Cache.Cache))
  const run = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
    const parent = requestSpan.getStore()
    const exit = await runtime.runPromiseExit(
      parent === undefined ? effect : Effect.withParentSpan(effect, parent),
    )
    if (Exit.isSuccess(exit)) return exit.value
    throw Cause.squash(exit.cause)
  }
  return {
    service,
    run,
    traced: async (name, handler) => {
      const exit = await runtime.runPromiseExit(
        Effect.withSpan(
          Effect.flatMap(Effect.currentSpan, (span) =>
            Effect.tryPromise({ try: () => requestSpan.run(span, handler), catch: (error) => error }),
          ),
          name,
          { kind: "server" },
        ),
      )
      if (Exit.isSuccess(exit)) return exit.value
      throw Cause.squash(exit.cause)
    },
    stats: () => service.stats(),
    close: () => runtime.dispose(),
  }
}
