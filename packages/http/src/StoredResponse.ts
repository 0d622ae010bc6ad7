/**
 * A response as the cache keeps it: status, headers, the whole body, when it
 * was stored and until when it may be served. One schema for upstream
 * responses (`cachedFetch`) and server responses (the middleware).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A stored response. Times are wall-clock milliseconds since the epoch:
 * `freshUntil` ends its freshness (RFC 9111 §4.2), `graceUntil` ends the
 * window in which it may still be served when the upstream fails (RFC 5861
 * `stale-if-error`, or the keyspace's `staleFor`). `policy` is the
 * serialised `http-cache-semantics` policy (JSON), used for revalidation
 * (RFC 9111 §4.3) and for `stale-while-revalidate`.
 */
export const StoredResponse = Schema.Struct({
  status: Schema.Int,
  headers: Schema.Array(Schema.Tuple([Schema.String, Schema.String])),
  body: Schema.Uint8Array,
  storedAt: Schema.Number,
  freshUntil: Schema.Number,
  graceUntil: Schema.Number,
  policy: Schema.String,
})
export type StoredResponse = typeof StoredResponse.Type

/** The `X-Cache` value of a response: served fresh from the cache, fetched or rendered now, served stale, or served after a `304` revalidation. */
export type CacheStatus = "HIT" | "MISS" | "STALE" | "REVALIDATED"

/** Statuses whose responses carry no body (RFC 9110 §6.4.1). */
export const isBodyless = (status: number): boolean =>
  status === 204 || status === 304 || (status >= 100 && status < 200)

/** The `Age` of a stored response at `now`, in whole seconds (RFC 9111 §5.1): time since it was stored. */
export const ageSeconds = (entry: StoredResponse, now: number): number =>
  Math.max(0, Math.floor((now - entry.storedAt) / 1000))

/**
 * A WHATWG `Response` for a stored one, with `Age` and `X-Cache` set. The body
 * is copied, so the caller may consume it freely.
 */
export const toResponse = (entry: StoredResponse, status: CacheStatus, now: number): Response => {
  const headers = new Headers()
  for (const [name, value] of entry.headers) headers.append(name, value)
  headers.set("age", String(ageSeconds(entry, now)))
  headers.set("x-cache", status)
  return new Response(isBodyless(entry.status) ? null : entry.body.slice(), {
    status: entry.status,
    headers,
  })
}
