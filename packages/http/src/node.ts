/**
 * Response caching for a plain `node:http` server: wrap the request
 * listener, and GET/HEAD responses are served from the cache by the rules of
 * `ResponseCache`.
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { capture, requestOf, send } from "./internal/nodeCapture.ts"
import type { ResponseCache } from "./ResponseCache.ts"

/** A `node:http` request listener. */
export type Listener = (req: IncomingMessage, res: ServerResponse) => unknown

/**
 * Wraps `listener` with the response cache: a hit is sent without calling it;
 * a miss calls it and stores what it sent (bodies over `maxBodyBytes` are
 * delivered, not stored). A lookup failure (`CacheClosed`) answers 500 and is
 * passed to `onError` (default `console.error`).
 *
 * @example
 * ```ts
 * import { createServer } from "node:http"
 * import { cacheResponses } from "@strata/http/node"
 *
 * createServer(cacheResponses(pages, (req, res) => res.end(render(req.url)))).listen(8080)
 * ```
 */
export const cacheResponses =
  (cache: ResponseCache, listener: Listener, onError: (error: unknown) => void = console.error): Listener =>
  (req, res) =>
    cache.lookup(requestOf(req)).then(
      (decision) => {
        if (decision.kind === "hit") return send(res, decision.served)
        if (decision.kind === "miss") capture(cache, decision, res)
        return listener(req, res)
      },
      (error: unknown) => {
        onError(error)
        res.statusCode = 500
        res.end()
      },
    )
