/**
 * The framework-neutral rules of server response caching: which requests
 * may be looked up, what their key is, and which responses may be stored.
 */
import { type RequestKey, selectingHeaders, type VariantsKey } from "../HttpKeyspace.ts"
import * as Policy from "./policy.ts"

/** A request as every adapter presents it: method, path with query as received, headers by lower-case name. */
export interface ServerRequest {
  readonly method: string
  readonly url: string
  readonly header: (name: string) => string | undefined
}

/** A response as every adapter presents it once the app answered. */
export interface ServerResponse {
  readonly status: number
  /** Header names in lower case; several values of one header joined as the framework keeps them. */
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** The whole body, or `undefined` when it was larger than the limit (then it is not stored). */
  readonly body: Uint8Array | undefined
}

/** `/path?b=2&a=1` → `/path?a=1&b=2`: the query's parameters sorted by name (stable for repeated names). */
export const normaliseUrl = (url: string): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url, "http://localhost")
  } catch {
    return undefined
  }
  parsed.searchParams.sort()
  const query = parsed.searchParams.toString()
  return query === "" ? parsed.pathname : `${parsed.pathname}?${query}`
}

/** Whether a request carries credentials: `Authorization` or a `Cookie` (RFC 9111 §3.5). */
export const hasCredentials = (request: ServerRequest): boolean =>
  request.header("authorization") !== undefined || request.header("cookie") !== undefined

/** The key of a resource's Vary list: GET and HEAD share the GET entry. */
export const variantsKey = (url: string, identity: string): VariantsKey => ({ method: "GET", url, identity })

/** The `Vary` header names of a response, lower-case, sorted, deduplicated; `["*"]` for `Vary: *`. */
export const varyOf = (headers: ReadonlyArray<readonly [string, string]>): Array<string> => {
  const names = new Set<string>()
  for (const [name, value] of headers)
    if (name === "vary")
      for (const part of value.split(",")) {
        const token = part.trim().toLowerCase()
        if (token !== "") names.add(token)
      }
  return [...names].sort()
}

/** The full key of a request, given the Vary list of its resource. */
export const requestKey = (
  request: ServerRequest,
  url: string,
  identity: string,
  vary: ReadonlyArray<string>,
): RequestKey => ({
  method: "GET",
  url,
  identity,
  headers: selectingHeaders(vary, request.header),
})

/** Headers never stored: hop-by-hop ones (RFC 9110 §7.6.1), the ones the cache sets, and framing it recomputes. */
const UNSTORED = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
  "content-length",
  "date",
  "age",
  "x-cache",
  "set-cookie",
])

export const storedHeaders = (headers: ReadonlyArray<readonly [string, string]>) =>
  headers.filter(([name]) => !UNSTORED.has(name))

/**
 * Whether a response may be stored and for how long (ms), or why not:
 * only 2xx (and opted-in statuses) to GET; never with `Set-Cookie`, `Vary: *`,
 * or what RFC 9111 §3 forbids a shared cache (`no-store`, `private`); with a
 * `Cache-Control` or `Expires`, for its freshness lifetime capped by the
 * keyspace's ttl (not at all when that is 0), else for the keyspace's ttl.
 */
export const storable = (
  request: ServerRequest,
  url: string,
  response: ServerResponse,
  extraStatuses: ReadonlySet<number>,
  ttlMillis: number,
  staleForMillis: number,
):
  | { readonly ok: true; readonly fresh: number; readonly grace: number; readonly policy: Policy.Policy }
  | { readonly ok: false; readonly why: string } => {
  const { status, headers } = response
  if (request.method !== "GET") return { ok: false, why: "not a GET" }
  if (!((status >= 200 && status < 300) || extraStatuses.has(status))) return { ok: false, why: "status" }
  if (response.body === undefined) return { ok: false, why: "body over the limit" }
  if (headers.some(([name]) => name === "set-cookie")) return { ok: false, why: "Set-Cookie" }
  if (varyOf(headers).includes("*")) return { ok: false, why: "Vary: *" }
  const record: Policy.HeaderRecord = {}
  for (const [name, value] of headers)
    record[name] = record[name] === undefined ? value : `${record[name]}, ${value}`
  // Credentials reach here only when the key holds the caller's identity: the entry is theirs alone.
  const policy = Policy.create({ method: "GET", url, headers: {} }, status, record, true)
  if (!policy.storable()) return { ok: false, why: "Cache-Control" }
  const explicit = record["cache-control"] !== undefined || record.expires !== undefined
  const { fresh, grace } = Policy.lifetimes(
    policy,
    explicit ? "cache-control" : "keyspace",
    ttlMillis,
    staleForMillis,
  )
  if (fresh <= 0) return { ok: false, why: "no freshness" }
  return { ok: true, fresh, grace, policy }
}
