import { it } from "@effect/vitest"
import { Cache } from "@strata/core"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { expect } from "vitest"
import * as Catalog from "../src/Catalog.ts"
import * as Scenario from "../src/Scenario.ts"

const options = { products: 50, pageViews: 1_000, stampede: 200, ttlMillis: 1_000 }

it.effect(
  "the demo scenario loads each product once, survives the outage on stale values and sees the new price",
  () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.forkChild(Scenario.run(options))
      // Drive the catalog's simulated latency and the wait for the TTL.
      for (let i = 0; i < 5_000 && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust(5)
      const result = yield* Fiber.join(fiber)
      const [stampede, browsing, priceChange, outage] = result.phases
      expect(stampede?.catalogQueries).toBe(1)
      expect(stampede?.coalesced).toBe(options.stampede - 1)
      expect(browsing!.catalogQueries).toBeLessThanOrEqual(options.products)
      expect(browsing!.hits + browsing!.coalesced + browsing!.misses).toBe(options.pageViews)
      expect(result.newPrice).toBe(4_999)
      expect(priceChange?.catalogQueries).toBe(2)
      expect(result.outageServed).toBe(result.outageRequests)
      expect(outage!.staleServed).toBeGreaterThan(0)
      expect(result.viewsOfProduct1).toBeGreaterThan(options.stampede)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(Cache.layer(), Catalog.layerMemory({ products: options.products, latencyMillis: 2 })),
      ),
    ),
)
