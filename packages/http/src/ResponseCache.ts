/**
 * The framework-neutral core of the server middleware: a request goes in, a
 * decision comes out (serve this stored response, let the app answer and
 * hand its response back, or stay out of the way); the adapters under
 * `@strata/http/node`, `/express`, `/fastify` and `/hono` only translate.
 *
 * The key of a response is its method (HEAD shares GET's entry), its path,
 * its query with parameters sorted, the request headers its `Vary` names and
 * the caller's identity when `identity` is given. A request with
 * `Authorization` or `Cookie` is neither looked up nor stored unless
 * `identity` names who is asking (then the entry is that caller's alone).
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import type { StrataCache } from "@strata/core"
import fresh from "fresh"
import { InvalidHttpInput } from "./Errors.ts"
import type { HttpKeyspace, RequestKey } from "./HttpKeyspace.ts"
import { onlyKnown } from "./internal/options.ts"
import * as Policy from "./internal/policy.ts"
import * as Rules from "./internal/serverKey.ts"
import { ageSeconds, type StoredResponse } from "./StoredResponse.ts"

export type { ServerRequest, ServerResponse } from "./internal/serverKey.ts"

/** The options of {@link make}. */
export interface ResponseCacheOptions {
  /** The cache to store into (`createCache(...)`); `cache.invalidateTag` drops pages by the keyspace's tags. */
  readonly cache: StrataCache
  /** The keyspaces to store into, from `HttpKeyspace.make`: its `ttl` is a page's freshness unless the page's `Cache-Control` says less. */
  readonly keyspace: HttpKeyspace
  /**
   * Who is asking, when a response depends on it (a user id from a verified
   * token, a tenant): part of the key, so no caller is served another's page.
   * A request with `Authorization` or `Cookie` for which it returns
   * `undefined` (or when it is not given) is not cached. Default: none.
   */
  readonly identity?: ((request: Rules.ServerRequest) => string | undefined) | undefined
  /** Statuses stored besides 2xx: `301` and `404` may be opted into. Default: none. */
  readonly statuses?: ReadonlyArray<301 | 404> | undefined
  /** Largest body stored, in bytes; a larger one is delivered intact and not stored. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined
  /**
   * Called when storing a response failed after it was sent (a tier error,
   * `EntryTooLarge` past the cache's `maxEntryBytes`): the client got its
   * response, so there is no one else to tell. Default: `console.error`.
   */
  readonly onStoreError?: ((error: unknown) => void) | undefined
}

/** A stored response ready to send: status, headers (with `Age`, `X-Cache`, `ETag`), body (`undefined` for HEAD and 304). */
export interface Served {
  readonly status: number
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: Uint8Array | undefined
}

/** A miss the app answers: hand its response to `store`, or call `abandon` when it did not complete. */
export interface Pending {
  readonly store: (response: Rules.ServerResponse) => Promise<void>
  readonly abandon: () => void
}

/**
 * What to do with a request: `"hit"` (send `served`; the app is not called),
 * `"miss"` (set `X-Cache: MISS`, let the app answer, then `pending.store` its
 * response), `"bypass"` (let the app answer; nothing is stored: not GET/HEAD,
 * credentials without identity, a bad URL).
 */
export type Decision =
  | { readonly kind: "hit"; readonly served: Served }
  | { readonly kind: "miss"; readonly pending: Pending }
  | { readonly kind: "bypass" }

/** A response cache, made by {@link make}. */
export interface ResponseCache {
  /**
   * Decides what to do with a request. A failing shared tier is a miss (the
   * cache's `l2ReadErrors` rule); it rejects only with what the cache throws
   * otherwise (`CacheClosed`), which adapters hand to the framework's error handling.
   */
  readonly lookup: (request: Rules.ServerRequest) => Promise<Decision>
  /** Largest body stored, in bytes: adapters stop buffering past it. */
  readonly maxBodyBytes: number
  /** Stores a miss's response once sent; failures go to `onStoreError`. */
  readonly finish: (pending: Pending, response: Rules.ServerResponse) => void
}

const DEFAULT_MAX_BODY = 1024 * 1024

/** A strong validator for a stored body (RFC 9110 §8.8.3): a hash of its exact bytes. */
const etagOf = (body: Uint8Array) => `"${createHash("sha1").update(body).digest("base64url")}"`

/**
 * Makes a response cache. Throws `InvalidHttpInput` (`reason: "option"`) for a
 * bad option.
 *
 * @example
 * ```ts
 * const pages = ResponseCache.make({ cache, keyspace: Pages, statuses: [404] })
 * const decision = await pages.lookup({ method: "GET", url: "/products/42", header: (name) => headers[name] })
 * ```
 */
export const make = (options: ResponseCacheOptions): ResponseCache => {
  onlyKnown("ResponseCache.make", options, [
    "cache",
    "keyspace",
    "identity",
    "statuses",
    "maxBodyBytes",
    "onStoreError",
  ])
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0)
    throw new InvalidHttpInput({
      reason: "option",
      message: `maxBodyBytes must be a whole number of bytes ≥ 0, got ${maxBodyBytes}`,
    })
  const extraStatuses = new Set<number>(options.statuses ?? [])
  for (const status of extraStatuses)
    if (status !== 301 && status !== 404)
      throw new InvalidHttpInput({
        reason: "option",
        message: `statuses may hold 301 and 404, got ${status}`,
      })
  const { cache, keyspace, identity } = options
  const entries = cache.keyspace(keyspace.entries)
  const variants = cache.keyspace(keyspace.variants)
  const { ttlMillis, staleForMillis } = keyspace.entries
  // Keys rendered by this process right now: while one request renders a stale page, others get the stale copy.
  const rendering = new Set<string>()

  const serve = (request: Rules.ServerRequest, entry: StoredResponse, status: "HIT" | "STALE"): Served => {
    const headers: Array<readonly [string, string]> = [
      ...entry.headers,
      ["age", String(ageSeconds(entry, Date.now()))],
      ["x-cache", status],
    ]
    const noneMatch = request.header("if-none-match")
    const modifiedSince = request.header("if-modified-since")
    if (noneMatch !== undefined || modifiedSince !== undefined) {
      const etag = entry.headers.find(([name]) => name === "etag")?.[1]
      const modified = entry.headers.find(([name]) => name === "last-modified")?.[1]
      // The request's own Cache-Control is not read: this is the app's cache, and Fetch clients send
      // `no-cache` with every conditional request (which `fresh` would take as a reload).
      // RFC 9110 §13.1.2: a matching If-None-Match on a GET/HEAD is answered 304, no body.
      if (
        fresh(
          { "if-none-match": noneMatch, "if-modified-since": modifiedSince },
          { etag, "last-modified": modified },
        )
      )
        return { status: 304, headers, body: undefined }
    }
    headers.push(["content-length", String(entry.body.byteLength)])
    return { status: entry.status, headers, body: request.method === "HEAD" ? undefined : entry.body }
  }

  const lookup = async (request: Rules.ServerRequest): Promise<Decision> => {
    if (request.method !== "GET" && request.method !== "HEAD") return { kind: "bypass" }
    const who = identity?.(request)
    if (who === undefined && Rules.hasCredentials(request)) return { kind: "bypass" }
    const url = Rules.normaliseUrl(request.url)
    if (url === undefined) return { kind: "bypass" }
    const id = who ?? ""
    const vkey = Rules.variantsKey(url, id)
    let entry: StoredResponse | undefined
    let key: RequestKey | undefined
    const vary = await variants.get(vkey)
    if (vary !== undefined) {
      key = Rules.requestKey(request, url, id, vary)
      entry = await entries.get(key)
    }
    const now = Date.now()
    if (entry !== undefined && now < entry.freshUntil)
      return { kind: "hit", served: serve(request, entry, "HIT") }
    const flight = JSON.stringify(key ?? vkey)
    if (entry !== undefined && rendering.has(flight))
      return { kind: "hit", served: serve(request, entry, "STALE") }
    if (request.method === "HEAD") return { kind: "bypass" }
    rendering.add(flight)
    let settled = false
    const settle = () => {
      if (!settled) rendering.delete(flight)
      settled = true
    }
    const store = async (response: Rules.ServerResponse) => {
      try {
        const verdict = Rules.storable(request, url, response, extraStatuses, ttlMillis, staleForMillis)
        if (!verdict.ok || response.body === undefined) return
        const body = response.body
        const headers = Rules.storedHeaders(response.headers)
        if (!headers.some(([name]) => name === "etag")) headers.push(["etag", etagOf(body)])
        const stamp = Date.now()
        const vary = Rules.varyOf(response.headers)
        const stored: StoredResponse = {
          status: response.status,
          headers,
          body,
          storedAt: stamp,
          freshUntil: stamp + verdict.fresh,
          graceUntil: stamp + verdict.fresh + verdict.grace,
          policy: Policy.serialise(verdict.policy),
        }
        const lifetime = Math.max(1, verdict.fresh + verdict.grace)
        await variants.set(vkey, vary, { ttl: lifetime })
        await entries.set(Rules.requestKey(request, url, id, vary), stored, { ttl: lifetime })
      } finally {
        settle()
      }
    }
    return { kind: "miss", pending: { store, abandon: settle } }
  }

  const onStoreError = options.onStoreError ?? ((error: unknown) => console.error(error))
  const finish = (pending: Pending, response: Rules.ServerResponse) => {
    pending.store(response).catch(onStoreError)
  }
  return { lookup, maxBodyBytes, finish }
}
