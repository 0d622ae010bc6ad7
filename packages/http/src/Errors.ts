/**
 * The typed failures of @strata/http. Each is a `Schema.TaggedError`: an
 * `Error` subclass with a `_tag`, matched with `instanceof`, `error._tag` or
 * `Effect.catchTag`, never by its message.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Why an upstream call failed:
 *
 * - `"unreachable"`: `fetch` rejected (connection refused or reset, DNS, TLS,
 *   an aborted request) and no stored response could be served instead.
 */
export const UpstreamFailureReason = Schema.Literals(["unreachable"])
export type UpstreamFailureReason = typeof UpstreamFailureReason.Type

/**
 * `cachedFetch` could not get a response from the upstream and held no stored
 * response it was allowed to serve instead (RFC 5861 `stale-if-error`, or the
 * keyspace's `staleFor`). `cause` keeps `fetch`'s own error.
 */
export class UpstreamFailed extends Schema.TaggedError<UpstreamFailed>()("UpstreamFailed", {
  url: Schema.String,
  reason: UpstreamFailureReason,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/**
 * What was wrong with a request or an option given to @strata/http:
 *
 * - `"url"`: the URL does not parse;
 * - `"header"`: a header name or value is not a valid HTTP header;
 * - `"option"`: an option is out of range (a negative size, an unknown mode).
 */
export const InvalidRequestReason = Schema.Literals(["url", "header", "option"])
export type InvalidRequestReason = typeof InvalidRequestReason.Type

/** A request or an option cannot be used; nothing was sent or stored. `reason` says which part. */
export class InvalidHttpInput extends Schema.TaggedError<InvalidHttpInput>()("InvalidHttpInput", {
  reason: InvalidRequestReason,
  message: Schema.String,
}) {}
