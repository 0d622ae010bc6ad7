/**
 * The shop's typed errors, one per failure a client can cause. The HTTP
 * layer maps each to a status code and a JSON body naming it.
 */
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
