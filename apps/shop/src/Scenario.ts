/**
 * The demo's scripted scenario: what a shop's traffic does to a cache, in
 * four phases, with the numbers that show what the cache did.
 */
import { Cache } from "@strata/core"
import { Effect, Option } from "effect"
import { Catalog } from "./Catalog.ts"
import { makeProducts, ProductViews } from "./Keyspaces.ts"

export interface ScenarioOptions {
  /** Products in the catalog. */
  readonly products: number
  /** Page views in the browsing phase. */
  readonly pageViews: number
  /** Shoppers opening the same cold product page at once. */
  readonly stampede: number
  /** Product TTL in milliseconds (the outage phase waits for it to pass). */
  readonly ttlMillis: number
  /** Reports each phase as it ends. */
  readonly onPhase?: (line: string) => void
}

export interface PhaseSummary {
  readonly phase: string
  readonly requests: number
  readonly catalogQueries: number
  readonly hits: number
  readonly misses: number
  readonly coalesced: number
  readonly staleServed: number
  readonly millis: number
}

/** Deterministic skewed popularity: a few products get most views, as in real shops. */
const popularProduct = (view: number, products: number) => {
  const u = ((view * 2654435761) % 2 ** 32) / 2 ** 32
  return 1 + Math.floor(products * u ** 3)
}

export const run = Effect.fn("Scenario.run")(function* (options: ScenarioOptions) {
  const cache = yield* Cache.Cache
  const catalog = yield* Catalog
  const Products = makeProducts(options.ttlMillis)
  const productPage = (id: number) =>
    cache
      .getOrSet(Products, { id }, ({ id }) => catalog.findProduct(id))
      .pipe(Effect.tap(() => cache.increment(ProductViews, { id, day: "2026-11-26" })))

  const phases: Array<PhaseSummary> = []
  const phase = <A, E, R>(name: string, requests: number, work: Effect.Effect<A, E, R>) =>
    Effect.gen(function* () {
      const before = cache.stats()
      const queriesBefore = catalog.queries()
      const started = performance.now()
      const result = yield* work
      const after = cache.stats()
      const summary: PhaseSummary = {
        phase: name,
        requests,
        catalogQueries: catalog.queries() - queriesBefore,
        hits: after.hitsL1 + after.hitsL2 - before.hitsL1 - before.hitsL2,
        misses: after.misses - before.misses,
        coalesced: after.coalesced - before.coalesced,
        staleServed: after.staleServed - before.staleServed,
        millis: Math.round(performance.now() - started),
      }
      phases.push(summary)
      options.onPhase?.(describe(summary))
      return result
    })

  // 1. A product goes viral: many shoppers open its cold page at the same moment.
  yield* phase(
    "stampede on one cold product",
    options.stampede,
    Effect.all(
      Array.from({ length: options.stampede }, () => productPage(1)),
      { concurrency: "unbounded" },
    ),
  )

  // 2. Ordinary browsing with skewed popularity.
  yield* phase(
    "browsing",
    options.pageViews,
    Effect.forEach(
      Array.from({ length: options.pageViews }, (_, view) => popularProduct(view, options.products)),
      productPage,
      { concurrency: 32, discard: true },
    ),
  )

  // 3. A price change: write the catalog, invalidate the product's tag, and the next read is the new price.
  const newPrice = yield* phase(
    "price change",
    2,
    Effect.gen(function* () {
      const updated = yield* catalog.updatePrice(3, 4_999)
      yield* cache.invalidateTag(`product:${updated.id}`)
      return (yield* productPage(3)).priceCents
    }),
  )

  // 4. The catalog goes down after the products went stale: shoppers still get pages.
  yield* Effect.sleep(options.ttlMillis + 10)
  catalog.setDown(true)
  const servedDuringOutage = yield* phase(
    "catalog outage (stale pages served)",
    50,
    Effect.forEach(
      Array.from({ length: 50 }, (_, view) => popularProduct(view, Math.min(options.products, 5))),
      (id) => Effect.option(productPage(id)),
      { concurrency: 8 },
    ),
  )
  catalog.setDown(false)

  const views = yield* cache.get(ProductViews, { id: 1, day: "2026-11-26" })
  return {
    phases,
    newPrice,
    outageServed: servedDuringOutage.filter(Option.isSome).length,
    outageRequests: servedDuringOutage.length,
    viewsOfProduct1: Option.getOrElse(views, () => 0),
    stats: cache.stats(),
  }
})

export const describe = (s: PhaseSummary) =>
  `${s.phase.padEnd(38)} ${String(s.requests).padStart(6)} requests  ${String(s.catalogQueries).padStart(4)} catalog queries  ${String(s.hits).padStart(6)} hits  ${String(s.misses).padStart(4)} misses  ${String(s.coalesced).padStart(5)} coalesced  ${String(s.staleServed).padStart(3)} stale  ${String(s.millis).padStart(5)} ms`
