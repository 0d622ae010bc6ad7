/**
 * A product's price in another currency: the product through the product
 * `Repository`, the rate from the exchange-rate service through
 * `@strata/http`'s `CachedFetch` (see `ExchangeRates.ts`).
 */
import type { ShopContext } from "../Context.ts"
import * as ExchangeRates from "../ExchangeRates.ts"
import type { Meter } from "../Meters.ts"
import * as Products from "./Products.ts"

/** A converted price, and how the cache answered the rate (sent as the `x-rate-cache` header). */
export interface Price {
  readonly productId: number
  /** The price in US cents, as stored. */
  readonly priceCents: number
  readonly currency: string
  readonly rate: number
  /** The price in `currency`, rounded to its minor unit. */
  readonly amount: number
  readonly asOf: string
}

/** The number of decimals of `currency`'s minor unit (JPY 0, EUR 2). */
const decimals = (currency: string) =>
  new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2

/**
 * `GET /api/products/:id/price?currency=`: fails with `ProductNotFound`,
 * `UnsupportedCurrency` or `RatesUnavailable`.
 */
export const price = (shop: ShopContext, meter: Meter) => {
  const products = Products.repository(shop, meter)
  const rateOf = ExchangeRates.client(shop.cache.facade, shop.ratesUrl, meter)
  return async (id: number, currency: string): Promise<{ price: Price; cache: string }> => {
    const [product, rate] = await Promise.all([Products.find(shop, meter, products, id), rateOf(currency)])
    const scale = 10 ** decimals(currency)
    return {
      price: {
        productId: product.id,
        priceCents: product.priceCents,
        currency,
        rate: rate.rate,
        amount: Math.round((product.priceCents / 100) * rate.rate * scale) / scale,
        asOf: rate.asOf,
      },
      cache: rate.cache,
    }
  }
}
