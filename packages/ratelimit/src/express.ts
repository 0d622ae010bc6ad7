/**
 * `@strata/ratelimit/express`: rate-limiting middleware for Express 5. It
 * does not import Express (the types are structural), so it loads without
 * it. Keys by IP with this package's own `trustProxy` rule (not Express's
 * `trust proxy` setting); see `HttpRateLimit`.
 *
 * @example
 * ```ts
 * app.use(rateLimit({ limiter: PerIp, limits, trustProxy: 1 }))
 * ```
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { decide, type Options, withEarlier } from "./HttpRateLimit.ts"
import { requestInfo } from "./node.ts"

export type { Options, RequestInfo } from "./HttpRateLimit.ts"

/**
 * Express middleware: sets the rate-limit headers and calls `next()`, or
 * answers `429` with `Retry-After`. A limiter failure goes to `next(error)`
 * (Express's error handling).
 */
export const rateLimit =
  <K>(options: Options<K>) =>
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    decide(options, requestInfo(req, options.trustProxy)).then(
      (verdict) => {
        for (const [name, value] of Object.entries(verdict.headers))
          res.setHeader(name, withEarlier(name, res.getHeader(name), value))
        if (verdict.denied === undefined) return next()
        res.writeHead(verdict.denied.status, { "content-type": "application/json" })
        res.end(verdict.denied.body)
      },
      (error: unknown) => next(error),
    )
  }
