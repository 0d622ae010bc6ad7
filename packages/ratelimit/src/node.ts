/**
 * `@strata/ratelimit/node`: rate limiting for a plain `node:http` server.
 * See `HttpRateLimit` for keying, proxy trust and headers.
 *
 * @example
 * ```ts
 * const limit = rateLimit({ limiter: PerIp, limits })
 * createServer(async (req, res) => {
 *   if (!(await limit(req, res))) return // answered 429
 *   res.end("ok")
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { clientIp, decide, type Options, type RequestInfo, withEarlier } from "./HttpRateLimit.ts"

export type { Options, RequestInfo } from "./HttpRateLimit.ts"

/** The request as the key, skip and cost functions see it, with its client IP under the `trustProxy` rule. */
export const requestInfo = (req: IncomingMessage, trustProxy: boolean | number | undefined): RequestInfo => ({
  method: req.method ?? "GET",
  url: req.url ?? "/",
  headers: req.headers,
  ip: clientIpOf(req, trustProxy),
})

const clientIpOf = (req: IncomingMessage, trustProxy: boolean | number | undefined) =>
  clientIp(req.socket.remoteAddress, req.headers, trustProxy)

/**
 * A request handler step: resolves `true` when the request may go on (the
 * rate-limit headers are set on `res`), or `false` after answering `429`
 * itself. When the limiter fails (a store error it does not handle), it
 * answers `503` and resolves `false`.
 */
export const rateLimit =
  <K>(options: Options<K>) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    let verdict: Awaited<ReturnType<typeof decide>>
    try {
      verdict = await decide(options, requestInfo(req, options.trustProxy))
    } catch {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" })
      res.end(JSON.stringify({ error: "Service Unavailable" }))
      return false
    }
    for (const [name, value] of Object.entries(verdict.headers))
      res.setHeader(name, withEarlier(name, res.getHeader(name), value))
    if (verdict.denied === undefined) return true
    res.writeHead(verdict.denied.status, { "content-type": "application/json" })
    res.end(verdict.denied.body)
    return false
  }
