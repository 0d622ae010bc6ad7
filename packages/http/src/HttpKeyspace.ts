/**
 * The keyspaces an HTTP cache stores into: the responses themselves, the
 * short-lived outcomes of refreshes (one upstream call per key across
 * callers and processes) and, for server responses, the `Vary` header names
 * seen per resource.
 *
 * @since 0.1.0
 */
import { Keyspace } from "@strata/core"
import { type Duration, Schema } from "effect"
import { onlyKnown } from "./internal/options.ts"
import { StoredResponse } from "./StoredResponse.ts"

/**
 * What identifies a cached response: the method, the URL (absolute for
 * `cachedFetch`; path and sorted query for server responses), the request
 * headers that select it and the caller's identity when the response depends
 * on who asks ("" when not). `headers` is one `name: value` line per header,
 * names lower-case and sorted (see {@link selectingHeaders}): header values
 * cannot hold a line break (RFC 9110 §5.5), so the lines are unambiguous, and
 * a key of plain strings keeps the cache's L1 hit path short.
 */
export const RequestKey = Schema.Struct({
  method: Schema.String,
  url: Schema.String,
  headers: Schema.String,
  identity: Schema.String,
})
export type RequestKey = typeof RequestKey.Type

/** The `headers` field of a {@link RequestKey}: `name: value` lines, in the order of `names` (give them sorted). */
export const selectingHeaders = (
  names: ReadonlyArray<string>,
  value: (name: string) => string | undefined,
): string => names.map((name) => `${name}: ${value(name) ?? ""}`).join("\n")

/**
 * How a refresh ended, shared with the callers (and processes) that waited on
 * it: `"response"` carries the response (stored in `entries` when `stored`);
 * `"stale"` means the upstream failed and callers serve the stored response of
 * the generation they refreshed; `"pass"` means the response may not be shared
 * (`no-store`, `private`, `Set-Cookie`, too large) and each caller fetches its own.
 */
export const RefreshOutcome = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("response"), stored: Schema.Boolean, response: StoredResponse }),
  Schema.Struct({ kind: Schema.Literal("stale") }),
  Schema.Struct({ kind: Schema.Literal("pass") }),
])
export type RefreshOutcome = typeof RefreshOutcome.Type

/** The key of a refresh: the request key and the `storedAt` of the entry it replaces (0 for none). */
export const RefreshKey = Schema.Struct({ request: RequestKey, generation: Schema.Number })
export type RefreshKey = typeof RefreshKey.Type

/** The key of a resource's `Vary` list: the request key without its selecting headers. */
export const VariantsKey = Schema.Struct({
  method: Schema.String,
  url: Schema.String,
  identity: Schema.String,
})
export type VariantsKey = typeof VariantsKey.Type

/** The options of {@link make}. */
export interface HttpKeyspaceOptions {
  /** Stable name, `[a-z0-9][a-z0-9._-]*`, at most 55 characters (suffixes are added for the companion keyspaces). */
  readonly name: string
  /**
   * How long a response is fresh when the response's own `Cache-Control`
   * does not decide it (`freshness: "keyspace"`, the default), and the most
   * it is fresh when it does (`freshness: "cache-control"`). A duration such as
   * `"5 minutes"` or a number of milliseconds.
   */
  readonly ttl: Duration.Input
  /**
   * Grace after freshness: a stored response is still served when the
   * upstream fails (RFC 5861 `stale-if-error` may extend it) and kept for
   * revalidation with `ETag`/`Last-Modified`. Default 0.
   */
  readonly staleFor?: Duration.Input | undefined
  /** Tags of a response, from its key, for `cache.invalidateTag` (a product update drops its pages). */
  readonly tags?: ((key: RequestKey) => ReadonlyArray<string>) | undefined
  /** Format version, a positive integer. Default 1. */
  readonly version?: number | undefined
}

/** The keyspaces of one HTTP cache, made by {@link make}. */
export interface HttpKeyspace {
  readonly entries: Keyspace.Keyspace<RequestKey, StoredResponse>
  readonly refreshes: Keyspace.Keyspace<RefreshKey, RefreshOutcome>
  readonly variants: Keyspace.Keyspace<VariantsKey, ReadonlyArray<string>>
}

/** How long a refresh's outcome is kept for callers and processes that waited on it, in ms. */
export const REFRESH_OUTCOME_MILLIS = 1_000

/**
 * Declares the keyspaces of an HTTP cache. Throws `InvalidKeyspace` for a bad
 * name, version or duration, when the module that declares it loads.
 *
 * @example
 * ```ts
 * import { HttpKeyspace } from "@strata/http"
 *
 * const Weather = HttpKeyspace.make({ name: "weather", ttl: "10 minutes", staleFor: "1 hour" })
 * ```
 */
export const make = (options: HttpKeyspaceOptions): HttpKeyspace => {
  onlyKnown("HttpKeyspace.make", options, ["name", "ttl", "staleFor", "tags", "version"])
  const tags = options.tags
  const entries = Keyspace.make({
    name: options.name,
    key: RequestKey,
    value: StoredResponse,
    ttl: options.ttl,
    staleFor: options.staleFor ?? 0,
    version: options.version,
    tags,
  })
  const refreshes = Keyspace.make({
    name: `${options.name}.refresh`,
    key: RefreshKey,
    value: RefreshOutcome,
    ttl: REFRESH_OUTCOME_MILLIS,
    version: options.version,
    tags: tags === undefined ? undefined : (key) => tags(key.request),
  })
  const variants = Keyspace.make({
    name: `${options.name}.vary`,
    key: VariantsKey,
    value: Schema.Array(Schema.String),
    // A Vary list outlives the responses it selects: it is small and changes rarely.
    ttl: entries.ttlMillis + entries.staleForMillis,
    version: options.version,
    tags: tags === undefined ? undefined : (key) => tags({ ...key, headers: "" }),
  })
  return { entries, refreshes, variants }
}
