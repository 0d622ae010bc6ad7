/**
 * `pnpm demo`: the shop on embedded defaults (in-process L1, no server),
 * through its scripted scenario, with a summary of what the cache did.
 */
import { Cache } from "@strata/core"
import { Effect, Layer } from "effect"
import * as Catalog from "./Catalog.ts"
import * as Scenario from "./Scenario.ts"

const options = { products: 200, pageViews: 5_000, stampede: 500, ttlMillis: 1_000 }

const program = Effect.gen(function* () {
  console.log("Strata demo shop: embedded cache (in-process L1), in-memory catalog with 2 ms queries\n")
  const result = yield* Scenario.run({ ...options, onPhase: (line) => console.log(line) })
  const s = result.stats
  console.log(`
Summary
  catalog queries (loader calls): ${s.loads}
  cache hits: ${s.hitsL1 + s.hitsL2} (L1 ${s.hitsL1}, L2 ${s.hitsL2})
  cache misses: ${s.misses}
  callers that joined an in-flight load: ${s.coalesced}
  requests answered while the catalog was down: ${result.outageServed} of ${result.outageRequests} (stale values served ${s.staleServed} times; callers in the same flight share one)
  price of product 3 after the change: ${(result.newPrice / 100).toFixed(2)}
  views counted for product 1: ${result.viewsOfProduct1}`)
})

const ShopLive = Layer.mergeAll(
  Cache.layer(),
  Catalog.layerMemory({ products: options.products, latencyMillis: 2 }),
)

Effect.runPromise(program.pipe(Effect.provide(ShopLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
