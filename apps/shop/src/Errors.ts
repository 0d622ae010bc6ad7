/**
 * The shop's typed errors, one per failure a client can cause. The HTTP
 * layer maps each to a status code and a JSON body naming it.
 */
import { StoreUnavailable, Timeout } from "@strata/core"
import { Schema } from "effect"

/** No product has this id (HTTP 404). */
export class ProductNotFound extends Schema.TaggedError<ProductNotFound>()("ProductNotFound", {
  id: Schema.Int,
}) {}

/** No category has this id (HTTP 404). */
export class CategoryNotFound extends Schema.TaggedError<CategoryNotFound>()("CategoryNotFound", {
  id: Schema.Int,
}) {}

/** The request is malformed: bad JSON, a missing or invalid field (HTTP 400). */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  message: Schema.String,
}) {}

/** The exchange-rate service has no rate for this currency (HTTP 400). */
export class UnsupportedCurrency extends Schema.TaggedError<UnsupportedCurrency>()("UnsupportedCurrency", {
  currency: Schema.String,
}) {}

/**
 * The exchange-rate service could not be reached, or answered what the shop
 * cannot use, and no stored rate may be served instead (HTTP 502).
 */
export class RatesUnavailable extends Schema.TaggedError<RatesUnavailable>()("RatesUnavailable", {
  message: Schema.String,
}) {}

/** Whether `error` says the cache's shared tier is away (`StoreUnavailable` or `Timeout`): a 503, or tolerated after a commit. */
export const isCacheAway = (error: unknown): boolean =>
  error instanceof StoreUnavailable || error instanceof Timeout
