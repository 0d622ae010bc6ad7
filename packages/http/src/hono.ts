/**
 * Response caching for Hono 4: `app.use(cacheResponses(pages))`. The
 * response body is split with `tee()`: one branch goes to the client as it
 * is produced, the other is buffered up to the limit and stored when it ends.
 *
 * @since 0.1.0
 */
import type { MiddlewareHandler } from "hono"
import type { ResponseCache } from "./ResponseCache.ts"

/** Reads a stream to its end, up to `limit` bytes: the bytes, or `undefined` past the limit (then it is cancelled). */
const readUpTo = async (
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array | undefined> => {
  const reader = stream.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

/**
 * The Hono middleware of a response cache: a hit is answered without
 * running the handlers; a miss runs them and stores their response once its
 * body has been read in full. A failure to store goes to the cache's
 * `onStoreError`; a lookup failure (`CacheClosed`) rejects into Hono's
 * `onError`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono"
 * import { cacheResponses } from "@strata/http/hono"
 *
 * const app = new Hono()
 * app.use(cacheResponses(pages))
 * app.get("/products/:id", (c) => c.json(loadProduct(c.req.param("id"))))
 * ```
 */
export const cacheResponses =
  (cache: ResponseCache): MiddlewareHandler =>
  async (c, next) => {
    const url = new URL(c.req.url)
    const decision = await cache.lookup({
      method: c.req.method,
      url: `${url.pathname}${url.search}`,
      header: (name) => c.req.header(name),
    })
    if (decision.kind === "hit") {
      const { served } = decision
      const headers = new Headers()
      for (const [name, value] of served.headers) headers.append(name, value)
      return new Response(served.body === undefined ? null : served.body.slice(), {
        status: served.status,
        headers,
      })
    }
    if (decision.kind === "bypass") return next()
    try {
      await next()
    } catch (error) {
      // Hono turns handler errors into responses itself; anything that still escapes is not stored.
      decision.pending.abandon()
      throw error
    }
    const response = c.res
    const headers: Array<readonly [string, string]> = [...response.headers].map(([n, v]) => [
      n.toLowerCase(),
      v,
    ])
    const [toClient, toCache] = response.body === null ? [null, null] : response.body.tee()
    const sent = new Headers(response.headers)
    sent.set("x-cache", "MISS")
    c.res = undefined
    c.res = new Response(toClient, {
      status: response.status,
      statusText: response.statusText,
      headers: sent,
    })
    if (toCache === null)
      return cache.finish(decision.pending, { status: response.status, headers, body: new Uint8Array(0) })
    readUpTo(toCache, cache.maxBodyBytes).then(
      (body) => cache.finish(decision.pending, { status: response.status, headers, body }),
      () => decision.pending.abandon(),
    )
  }
