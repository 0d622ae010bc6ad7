/**
 * Response caching for Express 5: `app.use(cacheResponses(pages))` before
 * the routes it should cover. Express writes through Node's response
 * object, so the capture is the `node:http` adapter's; this module does not
 * load Express.
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { capture, requestOf, send } from "./internal/nodeCapture.ts"
import type { ResponseCache } from "./ResponseCache.ts"

/** An Express middleware, typed structurally so that `@types/express` is not needed. */
export type Middleware = (
  req: IncomingMessage & { readonly originalUrl?: string },
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void

/**
 * The Express middleware of a response cache: a hit is sent without running
 * the routes; a miss runs them and stores what they sent. The key uses
 * `req.originalUrl` (the path as the client sent it, whatever router it is
 * mounted on). A lookup failure (`CacheClosed`) goes to `next(error)`.
 *
 * @example
 * ```ts
 * import express from "express"
 * import { cacheResponses } from "@strata/http/express"
 *
 * const app = express()
 * app.use(cacheResponses(pages))
 * app.get("/products/:id", (req, res) => res.json(loadProduct(req.params.id)))
 * ```
 */
export const cacheResponses =
  (cache: ResponseCache): Middleware =>
  (req, res, next) => {
    cache.lookup(requestOf(req, req.originalUrl ?? req.url)).then((decision) => {
      if (decision.kind === "hit") return send(res, decision.served)
      if (decision.kind === "miss") capture(cache, decision, res)
      next()
    }, next)
  }
