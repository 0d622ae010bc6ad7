/**
 * RFC 9111 freshness through `http-cache-semantics`: every Cache-Control,
 * Expires, Age, Vary and validator rule is the library's; this file only turns
 * its answers into the times a stored response carries.
 */
import CachePolicy from "http-cache-semantics"
import type { StoredResponse } from "../StoredResponse.ts"

export type HeaderRecord = Record<string, string>

/** A request as the policy sees it. */
export interface PolicyRequest {
  readonly method: string
  readonly url: string
  readonly headers: HeaderRecord
}

/**
 * The part of `http-cache-semantics`' policy this package uses, declared here
 * so that published declarations do not need the library's types.
 */
export interface Policy {
  storable(): boolean
  maxAge(): number
  age(): number
  timeToLive(): number
  toObject(): object
  evaluateRequest(request: PolicyRequest): {
    readonly response?: unknown
    readonly revalidation?: { readonly synchronous: boolean } | undefined
  }
  revalidationHeaders(request: PolicyRequest): Record<string, string | Array<string> | undefined>
  revalidatedPolicy(
    request: PolicyRequest,
    response: { readonly status: number; readonly headers: HeaderRecord },
  ): { readonly policy: Policy; readonly modified: boolean }
}

/** The policy of a response to `request` (RFC 9111 §3: shared caches honour `s-maxage` and refuse `private`). */
export const create = (
  request: PolicyRequest,
  status: number,
  headers: HeaderRecord,
  shared: boolean,
): Policy => new CachePolicy({ ...request }, { status, headers }, { shared }) as Policy

export const serialise = (policy: Policy): string => JSON.stringify(policy.toObject())

export const restore = (json: string): Policy => CachePolicy.fromObject(JSON.parse(json)) as Policy

/** How a response's lifetime is decided: by the keyspace alone, or by its Cache-Control (capped by the keyspace). */
export type Freshness = "keyspace" | "cache-control"

/**
 * Fresh and grace times of a response stored now, in ms. `"keyspace"`: the
 * keyspace's ttl and staleFor. `"cache-control"`: freshness lifetime minus
 * current age (RFC 9111 §4.2.1, §4.2.3), capped by the keyspace's ttl; grace is
 * the keyspace's staleFor or what `stale-if-error`/`stale-while-revalidate`
 * allow (RFC 5861), whichever is longer.
 */
/**
 * The longest an entry can live in the cache, in ms: durations are kept
 * under 2^31 ms (about 24.8 days) because Node's timers fire at once past
 * it. A response fresh for a year (`max-age=31536000, immutable`) is kept
 * this long, then fetched again.
 */
export const MAX_ENTRY_MILLIS = 2 ** 31 - 1

export const lifetimes = (
  policy: Policy,
  freshness: Freshness,
  ttlMillis: number,
  staleForMillis: number,
): { readonly fresh: number; readonly grace: number } => {
  if (freshness === "keyspace") return { fresh: ttlMillis, grace: staleForMillis }
  const own = Math.max(0, Math.round((policy.maxAge() - policy.age()) * 1000))
  const fresh = Math.min(ttlMillis, own)
  const grace = Math.max(staleForMillis, policy.timeToLive() - fresh)
  // Stored with `fresh + grace` as its TTL, plus the keyspace's own staleFor: the sum stays under the limit.
  return { fresh, grace: Math.max(0, Math.min(grace, MAX_ENTRY_MILLIS - 1 - staleForMillis - fresh)) }
}

/** What a stored response allows now: served as is, served while it is refreshed in the background, or refreshed first. */
export type State = "fresh" | "stale-while-revalidate" | "stale"

/**
 * The state of `entry` for `request` at `now`. In `"cache-control"` mode the
 * request's own directives count too (RFC 9111 §5.2.1: `no-cache`, `max-age`,
 * `min-fresh`, `max-stale`) and so does `Vary` (§4.1).
 */
export const state = (
  entry: StoredResponse,
  request: PolicyRequest,
  freshness: Freshness,
  now: number,
): State => {
  if (freshness === "keyspace") return now < entry.freshUntil ? "fresh" : "stale"
  const evaluated = restore(entry.policy).evaluateRequest(request)
  if (evaluated.response === undefined) return "stale"
  if (evaluated.revalidation === undefined) return now < entry.freshUntil ? "fresh" : "stale"
  return evaluated.revalidation.synchronous ? "stale" : "stale-while-revalidate"
}

/** The headers of a Fetch `Headers` as a record with lower-case names. */
export const recordOf = (headers: Headers): HeaderRecord => {
  const record: HeaderRecord = {}
  headers.forEach((value, name) => {
    record[name] = value
  })
  return record
}
