/**
 * `@strata/ratelimit/hono`: rate-limiting middleware for Hono 4. It does not
 * import Hono (the types are structural), so it loads without it. The socket
 * peer address is read from `@hono/node-server`'s `c.env.incoming`; on other
 * runtimes pass `peer` (say, from `getConnInfo`). See `HttpRateLimit` for
 * keying, proxy trust and headers.
 *
 * @example
 * ```ts
 * app.use(rateLimit({ limiter: PerIp, limits }))
 * ```
 *
 * @since 0.1.0
 */
import type { IncomingHttpHeaders } from "node:http"
import { clientIp, decide, type Options as HttpOptions, isListHeader } from "./HttpRateLimit.ts"

export type { RequestInfo } from "./HttpRateLimit.ts"

/** The part of a Hono context the middleware uses. */
export interface HonoContextLike {
  readonly req: { readonly raw: Request; readonly method: string }
  readonly env?: unknown
  header(name: string, value: string, options?: { append?: boolean }): void
  body(data: string, status: 429, headers: Record<string, string>): Response
}

/** The middleware's options: the shared ones, and where the socket peer address comes from. */
export interface Options<K> extends HttpOptions<K> {
  /** The socket peer address. Default: `c.env.incoming.socket.remoteAddress` (`@hono/node-server`). */
  readonly peer?: ((c: HonoContextLike) => string | undefined) | undefined
}

const nodePeer = (c: HonoContextLike): string | undefined =>
  (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress

/**
 * Hono middleware: sets the rate-limit headers and awaits `next()`, or
 * answers `429` with `Retry-After`. A limiter failure rejects, for Hono's
 * `onError`.
 */
export const rateLimit =
  <K>(options: Options<K>) =>
  async (c: HonoContextLike, next: () => Promise<void>): Promise<Response | undefined> => {
    const headers: IncomingHttpHeaders = {}
    c.req.raw.headers.forEach((value, name) => {
      headers[name] = value
    })
    const url = new URL(c.req.raw.url)
    const verdict = await decide(options, {
      method: c.req.method,
      url: url.pathname + url.search,
      headers,
      ip: clientIp((options.peer ?? nodePeer)(c), headers, options.trustProxy),
    })
    // List headers get this limiter's item after an earlier limiter's (see HttpRateLimit).
    for (const [name, value] of Object.entries(verdict.headers))
      c.header(name, value, { append: isListHeader(name) })
    if (verdict.denied !== undefined)
      return c.body(verdict.denied.body, verdict.denied.status, { "content-type": "application/json" })
    await next()
    return undefined
  }
