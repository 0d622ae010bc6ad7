/**
 * A `fetch` that caches upstream responses (the weather-API case): one
 * upstream call per key across concurrent callers, and across processes when
 * the cache's shared tier offers leases; revalidation with `ETag` and
 * `Last-Modified`; the response's `Cache-Control` honoured on request; a
 * stored response served when the upstream fails, within its grace.
 *
 * @since 0.1.0
 */
import { LoaderFailed, StoreUnavailable, type StrataCache, Timeout } from "@strata/core"
import { InvalidHttpInput, UpstreamFailed } from "./Errors.ts"
import { type HttpKeyspace, type RefreshOutcome, type RequestKey, selectingHeaders } from "./HttpKeyspace.ts"
import { FIELD_NAME, onlyKnown } from "./internal/options.ts"
import * as Policy from "./internal/policy.ts"
import { type StoredResponse, toResponse } from "./StoredResponse.ts"

/** The options of {@link make}. */
export interface CachedFetchOptions {
  /** The cache to store into (`createCache(...)`): its tiers, bus and leases are the ones used. */
  readonly cache: StrataCache
  /** The keyspaces to store into, from `HttpKeyspace.make`. */
  readonly keyspace: HttpKeyspace
  /** The `fetch` to call upstream. Default: `globalThis.fetch`. */
  readonly fetch?: typeof globalThis.fetch | undefined
  /**
   * Request headers that are part of the key (case-insensitive), such as
   * `accept-language`: requests that differ in them are cached apart. Every
   * other request header is sent upstream but does not select the entry, so
   * name here every header the upstream's `Vary` names. Default: none.
   */
  readonly keyHeaders?: ReadonlyArray<string> | undefined
  /**
   * `"keyspace"` (default): a response is fresh for the keyspace's `ttl` and
   * its `Cache-Control` is not read. `"cache-control"`: the response decides
   * (RFC 9111: `max-age`, `s-maxage` when `shared`, `Expires`, `no-store`,
   * `private` when `shared`, `no-cache`, `must-revalidate`; RFC 5861:
   * `stale-while-revalidate`, `stale-if-error`), capped by the keyspace's `ttl`.
   */
  readonly freshness?: Policy.Freshness | undefined
  /**
   * Whether this cache is shared between users (RFC 9111 §3.5: `s-maxage`
   * applies, `private` responses and answers to requests with `Authorization`
   * are not stored). Default `true`: one entry serves every caller of the process.
   */
  readonly shared?: boolean | undefined
  /** Largest body stored, in bytes; a larger response is returned intact and not stored. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined
  /**
   * Called with the error of a background refresh (`stale-while-revalidate`),
   * which has no caller to reject. Default: `console.error`.
   */
  readonly onBackgroundError?: ((error: unknown) => void) | undefined
}

/** A cached `fetch`: same arguments, a WHATWG `Response` with `Age` and `X-Cache: HIT | MISS | STALE | REVALIDATED`. */
export type CachedFetch = (input: string | URL, init?: RequestInit) => Promise<Response>

const DEFAULT_MAX_BODY = 1024 * 1024

/** An upstream response not shared with anyone, marked as such (its headers are immutable, so it is rewrapped). */
const passed = (response: Response): Response => {
  const headers = new Headers(response.headers)
  headers.set("x-cache", "MISS")
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
}

const invalid = (reason: "url" | "header" | "option", message: string) =>
  new InvalidHttpInput({ reason, message })

/**
 * Makes a cached `fetch`. Only `GET` is cached; every other method goes
 * upstream untouched (RFC 9111 §2: this cache stores no other method), and
 * so does a request carrying `Authorization` or `Cookie` unless that header is
 * one of `keyHeaders` (RFC 9111 §3.5: a shared cache keeps no one's
 * credentialed answers). Throws
 * `InvalidHttpInput` for a bad option. The returned function rejects with
 * `InvalidHttpInput` for a bad URL or header, and with `UpstreamFailed` when the
 * upstream cannot be reached and no stored response may be served; an
 * upstream error status (5xx) is returned as is, unless a stored response may
 * be served instead (then `X-Cache: STALE`).
 *
 * @example
 * ```ts
 * const weather = CachedFetch.make({ cache, keyspace: Weather, freshness: "cache-control" })
 * const response = await weather("http://127.0.0.1:8080/forecast?city=Oslo")
 * response.headers.get("x-cache") // "MISS", then "HIT"
 * ```
 */
export const make = (options: CachedFetchOptions): CachedFetch => {
  onlyKnown("CachedFetch.make", options, [
    "cache",
    "keyspace",
    "fetch",
    "keyHeaders",
    "freshness",
    "shared",
    "maxBodyBytes",
    "onBackgroundError",
  ])
  const { cache, keyspace } = options
  const upstream = options.fetch ?? globalThis.fetch
  const freshness = options.freshness ?? "keyspace"
  if (freshness !== "keyspace" && freshness !== "cache-control")
    throw invalid("option", `freshness must be "keyspace" or "cache-control", got ${String(freshness)}`)
  const shared = options.shared ?? true
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  if (!Number.isSafeInteger(maxBody) || maxBody < 0)
    throw invalid("option", `maxBodyBytes must be a whole number of bytes ≥ 0, got ${maxBody}`)
  for (const name of options.keyHeaders ?? [])
    if (typeof name !== "string" || !FIELD_NAME.test(name))
      throw invalid("header", `keyHeaders: ${JSON.stringify(name)} is not a header name`)
  const keyHeaders = [...new Set((options.keyHeaders ?? []).map((name) => name.toLowerCase()))].sort()
  const onBackgroundError = options.onBackgroundError ?? ((error: unknown) => console.error(error))
  const entries = cache.keyspace(keyspace.entries)
  const refreshes = cache.keyspace(keyspace.refreshes)
  const { ttlMillis, staleForMillis } = keyspace.entries

  /** The upstream response as a stored one (not yet stored), or why it may not be shared. */
  const capture = async (
    request: Policy.PolicyRequest,
    response: Response,
    now: number,
  ): Promise<{ entry: StoredResponse; storable: boolean; shareable: boolean }> => {
    const body = new Uint8Array(await response.arrayBuffer())
    const headers = Policy.recordOf(response.headers)
    const policy = Policy.create(request, response.status, headers, shared)
    const { fresh, grace } = Policy.lifetimes(policy, freshness, ttlMillis, staleForMillis)
    const entry: StoredResponse = {
      status: response.status,
      headers: [...response.headers].filter(([name]) => name !== "set-cookie"),
      body,
      storedAt: now,
      freshUntil: now + fresh,
      graceUntil: now + fresh + grace,
      policy: Policy.serialise(policy),
    }
    // Never shared with other callers: a Set-Cookie (someone's session) and, by the response's word, no-store/private.
    const hasCookie = response.headers.getSetCookie().length > 0
    const shareable =
      !hasCookie && body.byteLength <= maxBody && (freshness === "keyspace" || policy.storable())
    const statusOk = freshness === "cache-control" ? true : response.status >= 200 && response.status < 300
    return { entry, storable: shareable && statusOk && fresh + grace > 0, shareable }
  }

  /** One refresh of `key`: conditional when `stale` is at hand, stored when allowed; what waiters share. */
  const refresh = async (
    key: RequestKey,
    request: Policy.PolicyRequest,
    init: RequestInit | undefined,
    stale: StoredResponse | undefined,
  ): Promise<Response> => {
    let own: Response | undefined
    const load = async (): Promise<RefreshOutcome> => {
      const now = Date.now()
      // A process that waited on another's lease finds its result here once the other has stored it.
      const current = await entries.get(key)
      if (
        current !== undefined &&
        current.storedAt > (stale?.storedAt ?? 0) &&
        Policy.state(current, request, freshness, now) === "fresh"
      ) {
        own = toResponse(current, "HIT", now)
        return { kind: "response", stored: true, response: current }
      }
      const policy = stale === undefined ? undefined : Policy.restore(stale.policy)
      const headers =
        policy === undefined ? request.headers : (policy.revalidationHeaders(request) as Policy.HeaderRecord)
      let response: Response
      try {
        response = await upstream(request.url, { ...init, method: "GET", headers })
      } catch (cause) {
        if (stale !== undefined && now < stale.graceUntil) {
          own = toResponse(stale, "STALE", now)
          return { kind: "stale" }
        }
        throw new UpstreamFailed({
          url: request.url,
          reason: "unreachable",
          message: `GET ${request.url} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause,
        })
      }
      if (response.status >= 500 && stale !== undefined && now < stale.graceUntil) {
        await response.body?.cancel()
        own = toResponse(stale, "STALE", now)
        return { kind: "stale" }
      }
      if (response.status === 304 && stale !== undefined && policy !== undefined) {
        const revalidated = policy.revalidatedPolicy(request, {
          status: 304,
          headers: Policy.recordOf(response.headers),
        })
        if (!revalidated.modified) {
          const { fresh, grace } = Policy.lifetimes(revalidated.policy, freshness, ttlMillis, staleForMillis)
          const merged = new Map(stale.headers)
          for (const [name, value] of response.headers)
            if (name !== "content-length" && name !== "set-cookie") merged.set(name, value)
          const entry: StoredResponse = {
            ...stale,
            headers: [...merged],
            storedAt: now,
            freshUntil: now + fresh,
            graceUntil: now + fresh + grace,
            policy: Policy.serialise(revalidated.policy),
          }
          await entries.set(key, entry, { ttl: Math.max(1, fresh + grace) })
          own = toResponse(entry, "REVALIDATED", now)
          return { kind: "response", stored: true, response: entry }
        }
        // A 304 for another representation: fetch it whole.
        response = await upstream(request.url, { ...init, method: "GET", headers: request.headers })
      }
      const captured = await capture(request, response, now)
      own = toResponse(captured.entry, "MISS", now)
      if (captured.storable) await entries.set(key, captured.entry, { ttl: captured.entry.graceUntil - now })
      return captured.shareable
        ? { kind: "response", stored: captured.storable, response: captured.entry }
        : { kind: "pass" }
    }
    const refreshKey = { request: key, generation: stale?.storedAt ?? 0 }
    let outcome: RefreshOutcome
    try {
      outcome = await refreshes.getOrSet(refreshKey, load)
    } catch (error) {
      if (own !== undefined) return own
      // The cache is away (a store error, or the refresh's write failing): the upstream answers, uncached.
      const cause = error instanceof LoaderFailed ? error.cause : error
      if (cause instanceof StoreUnavailable || cause instanceof Timeout)
        return passed(await upstream(request.url, { ...init, method: "GET", headers: request.headers }))
      throw cause instanceof UpstreamFailed ? cause : error
    } finally {
      // The outcome is for the callers that waited on this refresh, not for later ones: the one that ran it
      // drops it (a process that waited and missed it finds the stored response, see `load`). A store that
      // is away cannot: the outcome then lapses with its TTL; the caller still gets its response.
      if (own !== undefined) await refreshes.delete(refreshKey).catch(onBackgroundError)
    }
    if (own !== undefined) return own
    const now = Date.now()
    if (outcome.kind === "response") return toResponse(outcome.response, outcome.stored ? "HIT" : "MISS", now)
    if (outcome.kind === "stale" && stale !== undefined && now < stale.graceUntil)
      return toResponse(stale, "STALE", now)
    return passed(await upstream(request.url, { ...init, method: "GET", headers: request.headers }))
  }

  return async (input, init) => {
    const method = (init?.method ?? "GET").toUpperCase()
    if (method !== "GET") return upstream(input, init)
    let url: string
    let headers: Headers
    try {
      url = new URL(input).href
    } catch (cause) {
      throw invalid("url", `not a URL: ${String(input).slice(0, 200)}: ${String(cause)}`)
    }
    try {
      headers = new Headers(init?.headers)
    } catch (cause) {
      throw invalid("header", `a request header is not valid: ${String(cause)}`)
    }
    // A credentialed request is someone's own: never cached unless its credential selects the entry.
    if (
      (headers.has("authorization") && !keyHeaders.includes("authorization")) ||
      (headers.has("cookie") && !keyHeaders.includes("cookie"))
    )
      return upstream(input, init)
    const request: Policy.PolicyRequest = { method, url, headers: Policy.recordOf(headers) }
    const key: RequestKey = {
      method,
      url,
      headers: selectingHeaders(keyHeaders, (name) => headers.get(name) ?? undefined),
      identity: "",
    }
    const stored = await entries.get(key)
    if (stored !== undefined) {
      const now = Date.now()
      const state = Policy.state(stored, request, freshness, now)
      if (state === "fresh") return toResponse(stored, "HIT", now)
      if (state === "stale-while-revalidate") {
        refresh(key, request, init, stored).then((response) => response.body?.cancel(), onBackgroundError)
        return toResponse(stored, "STALE", now)
      }
    }
    return refresh(key, request, init, stored)
  }
}
