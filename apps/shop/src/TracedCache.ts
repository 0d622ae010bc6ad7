/**
 * The cache as the shop uses it, built on the Effect API when tracing is on:
 * the engine is built where the OpenTelemetry tracer is installed (so its
 * spans are on), and every call runs with the current request's span as its
 * parent. Without tracing the shop uses the Promise facade (`createCache`),
 * which has the same shape for what the shop calls.
 */
import { Cache, type Facade, type Keyspace, LoaderFailed } from "@strata/core"
import { Cause, Effect, Exit, Layer, ManagedRuntime, Option } from "effect"
import type { ShopCache, ShopClient } from "./Context.ts"
import { requestSpan } from "./Tracing.ts"

/** Builds the cache of `options` under the tracing layer `tracing`. */
export const make = async (
  options: Facade.CreateCacheOptions,
  tracing: Layer.Layer<never>,
): Promise<ShopCache> => {
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
  const loaderOf =
    <A, B>(keyspace: Keyspace.Keyspace<any, any>, load: (input: A) => Promise<B>) =>
    (input: A) =>
      Effect.tryPromise({
        try: () => load(input),
        catch: (cause) => new LoaderFailed({ keyspace: keyspace.id, cause }),
      })
  return {
    keyspace: <K, V>(keyspace: Keyspace.Keyspace<K, V>): ShopClient<K, V> => ({
      peek: (key) => service.peekUnsafe(keyspace, key),
      get: (key) => run(service.get(keyspace, key)).then(Option.getOrUndefined),
      getOrSet: (key, load) =>
        run(
          service.getOrSet(
            keyspace,
            key,
            loaderOf(keyspace, async (k: K) => load(k)),
          ),
        ),
      getOrSetMany: (keys, loadMany) =>
        run(
          service.getOrSetMany(
            keyspace,
            keys,
            loaderOf(keyspace, async (ks: ReadonlyArray<K>) => loadMany(ks)),
          ),
        ).then((found) => found.map(Option.getOrUndefined)),
      update: (key, f) => run(service.update(keyspace, key, f)),
      clear: () => run(service.clear(keyspace)),
    }),
    invalidateTag: (tag) => run(service.invalidateTag(tag)),
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
