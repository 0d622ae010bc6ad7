/**
 * `@strata/ratelimit/fastify`: a rate-limiting `onRequest` hook for Fastify
 * 5. It does not import Fastify (the types are structural), so it loads
 * without it. See `HttpRateLimit` for keying, proxy trust and headers.
 *
 * @example
 * ```ts
 * app.addHook("onRequest", rateLimit({ limiter: PerIp, limits }))
 * ```
 *
 * @since 0.1.0
 */
import type { IncomingMessage } from "node:http"
import { decide, type Options, withEarlier } from "./HttpRateLimit.ts"
import { requestInfo } from "./node.ts"

export type { Options, RequestInfo } from "./HttpRateLimit.ts"

/** The part of a Fastify request the hook reads. */
export interface FastifyRequestLike {
  readonly raw: IncomingMessage
}

/** The part of a Fastify reply the hook writes. */
export interface FastifyReplyLike {
  getHeader(name: string): unknown
  header(name: string, value: string): unknown
  code(status: number): FastifyReplyLike
  type(contentType: string): FastifyReplyLike
  send(body: string): unknown
}

/**
 * An async `onRequest` hook: sets the rate-limit headers, or answers `429`
 * with `Retry-After` (and returns the reply, ending the request). A limiter
 * failure rejects, for Fastify's error handling.
 */
export const rateLimit =
  <K>(options: Options<K>) =>
  async (request: FastifyRequestLike, reply: FastifyReplyLike): Promise<unknown> => {
    const verdict = await decide(options, requestInfo(request.raw, options.trustProxy))
    for (const [name, value] of Object.entries(verdict.headers))
      reply.header(name, withEarlier(name, reply.getHeader(name), value))
    if (verdict.denied === undefined) return undefined
    return reply.code(verdict.denied.status).type("application/json").send(verdict.denied.body)
  }
