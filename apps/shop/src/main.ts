/**
 * `npm run demo`: starts the shop on embedded defaults (PGlite in memory, the
 * in-process cache tier; PostgreSQL and Redis when `DATABASE_URL` and
 * `REDIS_URL` are set), drives the scripted scenario through HTTP, prints
 * what the cache did and exits. `--serve` keeps the shop running afterwards
 * and prints the URL of its live metrics page.
 */

import { defaultSize } from "./db/Seed.ts"
import * as Peer from "./Peer.ts"
import * as Report from "./Report.ts"
import * as Scenario from "./Scenario.ts"
import * as Shop from "./Shop.ts"

const serve = process.argv.includes("--serve")
const scenario = !process.argv.includes("--no-scenario")
const options = Shop.optionsFromEnv()

/** Keeps the shop running until SIGINT or SIGTERM, then closes it and exits. */
const keepServing = (shop: Shop.RunningShop) => {
  console.log(`\nServing at ${shop.url} (live metrics: ${shop.url}/metrics). Ctrl-C stops.`)
  const stop = () => {
    void shop.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once("SIGINT", stop)
  process.once("SIGTERM", stop)
}

const main = async () => {
  const startedAt = performance.now()
  const shop = await Shop.start(options)
  const startup = performance.now() - startedAt
  console.log(
    `Strata demo shop at ${shop.url}: ${shop.context.db.kind === "pglite" ? "embedded PGlite (in memory)" : "PostgreSQL"}` +
      `${shop.seeded ? `, seeded with ${defaultSize.products.toLocaleString("en")} products` : ""}` +
      `, cache ${options.redisUrl === undefined ? `L1 (${Shop.EMBEDDED_L1_ENTRIES} entries) over the memory store (both in process)` : "L1 + Redis (shared tier and bus)"}; started in ${(startup / 1000).toFixed(1)} s\n`,
  )
  if (!scenario) return keepServing(shop)
  const began = performance.now()
  const result = await Scenario.run(shop.url, {
    products: defaultSize.products,
    categories: defaultSize.categories,
    ratesMaxAgeSeconds: options.ratesMaxAgeSeconds ?? 1,
  })
  const took = performance.now() - began
  let acrossMillis: number | undefined
  if (options.redisUrl !== undefined) {
    // A second shop process on the same Redis: a write through this one must show there within the bus bound.
    const peer = await Peer.start({ REDIS_URL: options.redisUrl, SHOP_KEEP_CACHE: "1" })
    try {
      acrossMillis = await Scenario.acrossProcesses(shop.url, peer.url, 2)
    } finally {
      await peer.stop()
    }
  }
  await shop.context.views.flush()
  for (const line of Report.table(shop.context.meters)) console.log(line)
  const routes = [...shop.context.meters.routes.values()]
  const requests = routes.reduce((n, r) => n + r.requests, 0)
  const dbCalls = routes.reduce((n, r) => n + r.dbCalls, 0)
  const s = shop.context.cache.stats()
  const views = shop.context.views.counts()
  const upstream = routes.reduce((n, r) => n + r.upstream, 0)
  const notModified = routes.reduce((n, r) => n + r.notModified, 0)
  console.log(`
What just happened (${requests} HTTP requests in ${(took / 1000).toFixed(1)} s, ${dbCalls} database statements):
  - ${result.stampede.requests} requests for the cold product ${result.views.product} at once: ${result.stampede.productLoads} database load (the others joined it, or hit L1 once it was filled).
  - ${result.prices.requests} prices in ${result.prices.currencies} other currencies: ${upstream} calls to the exchange-rate upstream (${shop.context.ratesUrl}), ${notModified} of them
    answered 304 Not Modified after its max-age (If-None-Match with the stored ETag); the rest came from the cache.
  - ${result.browsing.requests} skewed page views and category listings: popular products and lists came from L1; category pages
    fetched their products in one batched read, reusing products cached by their own pages.
  - a price change (${result.price.before} -> ${result.price.after} cents) was written to the database and the cache; the next read showed ${result.price.seen}.
  - review statistics were computed once, served from cache, and recomputed after a new review (${result.reviews.before} -> ${result.reviews.after} reviews).
  - ${result.cart.requests} concurrent add-to-cart requests of one user left ${result.cart.quantity} items: none lost (Session.update: compare-and-set with retries).
  - ${result.searches.requests} searches typed in many ways hit ${result.searches.distinctQueries} normalised queries.
  - one user sent ${result.limited.requests} requests, over the per-user limit: ${result.limited.denied} answered 429 (Retry-After: ${result.limited.retryAfter} s); everyone else was not limited.
  - view counts were written behind in ${views.flushes} batch statements (${views.flushed} views; product ${result.views.product}: ${result.views.stored}).
${acrossMillis === undefined ? "" : `  - a second shop process on the same Redis saw a price change made through this one after ${acrossMillis.toFixed(0)} ms (bus bound 500 ms).\n`}  - cache: ${s.hitsL1} L1 hits, ${s.hitsL2} L2 hits, ${s.misses} misses, ${s.loads} loads, ${s.coalesced} joined a load in flight.`)
  if (dbCalls * 5 > requests)
    throw new Error(`too many database statements: ${dbCalls} for ${requests} requests`)
  if (serve) return keepServing(shop)
  await shop.close()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
