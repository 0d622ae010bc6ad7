/**
 * The exchange-rate client: the upstream's answers through `@strata/http`'s
 * `CachedFetch`, which follows their `Cache-Control` (`freshness:
 * "cache-control"`), makes one upstream call per currency for all
 * concurrent callers, revalidates a stale answer with `If-None-Match` (a
 * `304` refreshes it without a body) and serves the stored answer, within
 * the keyspace's grace, while the upstream is down. Every upstream call
 * counts on the route's meter, a `304` also as `notModified`.
 */
import type { StrataCache } from "@strata/core"
import { CachedFetch, UpstreamFailed } from "@strata/http"
import { Schema } from "effect"
import { RatesUnavailable, UnsupportedCurrency } from "./Errors.ts"
import { Rates } from "./Keyspaces.ts"
import type { Meter } from "./Meters.ts"

/** The upstream's answer: units of `currency` per US dollar, as of `asOf`. */
export const Rate = Schema.Struct({
  base: Schema.Literal("USD"),
  currency: Schema.String,
  rate: Schema.Number.check(Schema.isGreaterThan(0)),
  asOf: Schema.String,
})
export type Rate = typeof Rate.Type

/** A rate and how the cache answered it: `HIT`, `MISS`, `REVALIDATED` (a 304) or `STALE`. */
export interface CachedRate extends Rate {
  readonly cache: string
}

/**
 * The rate lookup of one route over `cache` (a Promise-facade cache), for
 * the service at `baseUrl`: fails with `UnsupportedCurrency` when the
 * service has no such currency, `RatesUnavailable` when it cannot be used.
 */
export const client = (cache: StrataCache, baseUrl: string, meter: Meter) => {
  const fetchRate = CachedFetch.make({
    cache,
    keyspace: Rates,
    freshness: "cache-control",
    fetch: async (input, init) => {
      meter.route.upstream++
      const response = await fetch(input, init)
      if (response.status === 304) meter.route.notModified++
      return response
    },
  })
  const decode = Schema.decodeUnknownSync(Rate)
  return async (currency: string): Promise<CachedRate> => {
    let response: Response
    try {
      response = await fetchRate(`${baseUrl}/v1/rates/${currency}`)
    } catch (error) {
      if (error instanceof UpstreamFailed) throw new RatesUnavailable({ message: error.message })
      throw error
    }
    if (response.status === 404) {
      await response.body?.cancel()
      throw new UnsupportedCurrency({ currency })
    }
    if (!response.ok) {
      await response.body?.cancel()
      throw new RatesUnavailable({ message: `the exchange-rate service answered ${response.status}` })
    }
    let rate: Rate
    try {
      rate = decode(await response.json())
    } catch (error) {
      throw new RatesUnavailable({
        message: `the exchange-rate service's answer is unusable: ${String(error)}`,
      })
    }
    return { ...rate, cache: response.headers.get("x-cache") ?? "MISS" }
  }
}
