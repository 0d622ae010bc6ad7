/**
 * What every HTTP middleware of this package shares: how a request is keyed
 * (client IP with an explicit proxy-trust rule, a user, or your function),
 * skipped or weighted, and how a decision becomes a response: `429 Too Many
 * Requests` with `Retry-After`, and the IETF rate-limit headers.
 *
 * **Headers.** Following draft-ietf-httpapi-ratelimit-headers-09 (the
 * structured-field form): every response carries `RateLimit-Policy:
 * "<limiter name>";q=<capacity>;w=<window in s>` and `RateLimit: "<limiter
 * name>";r=<remaining>;t=<seconds until the full capacity is back>`. A denied
 * request also gets `Retry-After: <seconds>` (rounded up, at least 1).
 * Several limiters on one route (per IP, then per user) each add their item
 * to the `RateLimit` and `RateLimit-Policy` lists (draft-09 §4 and §5: both
 * are lists, one item per policy); none replaces another's.
 *
 * **Client IP.** By default the socket's peer address, and `X-Forwarded-For`
 * is ignored: anyone can send that header. Set `trustProxy` to the number of
 * reverse proxies you run in front of the app (`true` means 1); the client is
 * then the address that many entries from the right of `X-Forwarded-For`
 * (each proxy appends the address it received the request from), and a
 * request with fewer entries is keyed by its leftmost one.
 *
 * @since 0.1.0
 */
import type { IncomingHttpHeaders } from "node:http"
import type { RateLimiterClient } from "./Facade.ts"
import type { Decision, RateLimiter } from "./RateLimiter.ts"

/** What the key, skip and cost functions see of a request, the same in every framework. */
export interface RequestInfo {
  readonly method: string
  /** The path and query, as received. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** The client IP under the `trustProxy` rule; `undefined` when unknown. */
  readonly ip: string | undefined
}

/** The options of every middleware. `K` is the limiter's key type. */
export interface Options<K> {
  /** The limiter (from `RateLimiter.make`). */
  readonly limiter: RateLimiter<K>
  /** The client made by `createRateLimiter` (memory or Redis store). */
  readonly limits: RateLimiterClient
  /**
   * The subject of a request: default its client IP (the limiter's key
   * schema must then accept a string). Return `undefined` to let the request
   * through unlimited (no key: say, an internal health check).
   */
  readonly key?: ((request: RequestInfo) => K | undefined) | undefined
  /** Requests for which this returns true pass without being counted. */
  readonly skip?: ((request: RequestInfo) => boolean) | undefined
  /** The cost of a request, default 1 (a whole number up to the limiter's capacity). */
  readonly cost?: ((request: RequestInfo) => number) | undefined
  /** Reverse proxies in front of the app, whose `X-Forwarded-For` entries are trusted. Default none. */
  readonly trustProxy?: boolean | number | undefined
}

/** What the middleware does with a request: let it through (with headers) or answer 429. */
export interface Verdict {
  readonly headers: Readonly<Record<string, string>>
  /** Denied: the status (429) and the JSON body to send. */
  readonly denied: { readonly status: 429; readonly body: string } | undefined
  /** `undefined` when the request was skipped. */
  readonly decision: Decision | undefined
}

const hops = (trustProxy: boolean | number | undefined): number =>
  trustProxy === true
    ? 1
    : typeof trustProxy === "number" && Number.isSafeInteger(trustProxy) && trustProxy > 0
      ? trustProxy
      : 0

/**
 * The client IP of a request whose socket peer is `peer`, under the
 * `trustProxy` rule (see the module notes).
 */
export const clientIp = (
  peer: string | undefined,
  headers: IncomingHttpHeaders,
  trustProxy: boolean | number | undefined,
): string | undefined => {
  const trusted = hops(trustProxy)
  if (trusted === 0) return peer
  const header = headers["x-forwarded-for"]
  const entries = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
  if (entries.length === 0) return peer
  return entries[Math.max(0, entries.length - trusted)]
}

/** The IETF headers of a decision (see the module notes). */
export const headersOf = (
  limiter: RateLimiter<any>,
  decision: Decision,
  now = Date.now(),
): Record<string, string> => {
  const name = JSON.stringify(limiter.name)
  const reset = Math.max(0, Math.ceil((decision.resetAt - now) / 1_000))
  const headers: Record<string, string> = {
    "RateLimit-Policy": `${name};q=${decision.limit};w=${Math.ceil(limiter.params.windowMillis / 1_000)}`,
    RateLimit: `${name};r=${decision.remaining};t=${reset}`,
  }
  if (!decision.allowed) headers["Retry-After"] = String(Math.max(1, Math.ceil(decision.retryAfter / 1_000)))
  return headers
}

/** Whether a header's value is a list (`RateLimit`, `RateLimit-Policy`): a second limiter adds its item after the first's. */
export const isListHeader = (name: string): boolean => {
  const lower = name.toLowerCase()
  return lower === "ratelimit" || lower === "ratelimit-policy"
}

/**
 * The value to set for `name` when the response may already carry `earlier`
 * (from another limiter on the same route): list headers get this limiter's
 * item appended; any other header is replaced.
 */
export const withEarlier = (name: string, earlier: unknown, value: string): string => {
  if (!isListHeader(name) || earlier === undefined || earlier === null || earlier === "") return value
  return `${Array.isArray(earlier) ? earlier.join(", ") : String(earlier)}, ${value}`
}

/**
 * Decides one request: keys it, skips it or consumes its cost, and says what
 * to answer. Rejects with the limiter's errors (`InvalidKey`, `InvalidCost`,
 * and `StoreUnavailable`/`Timeout` when the limiter does not handle store
 * failures), which each middleware hands to its framework's error handling.
 */
export const decide = async <K>(options: Options<K>, request: RequestInfo): Promise<Verdict> => {
  if (options.skip?.(request) === true) return { headers: {}, denied: undefined, decision: undefined }
  const key = options.key === undefined ? (request.ip as K | undefined) : options.key(request)
  if (key === undefined) return { headers: {}, denied: undefined, decision: undefined }
  const decision = await options.limits.consume(options.limiter, key, options.cost?.(request) ?? 1)
  const headers = headersOf(options.limiter, decision)
  return {
    headers,
    decision,
    denied: decision.allowed
      ? undefined
      : {
          status: 429,
          body: JSON.stringify({ error: "Too Many Requests", retryAfterMillis: decision.retryAfter }),
        },
  }
}
