/**
 * Response caching for Fastify 5: `app.register(responseCache, { cache: pages })`.
 * The plugin is not encapsulated (`skip-override`), so its hooks cover every
 * route of the instance it is registered on. Payloads that are strings,
 * buffers or streams are captured (streams through a tee, up to the limit).
 *
 * @since 0.1.0
 */
import { PassThrough, type Readable } from "node:stream"
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify"
import type { Decision, ResponseCache } from "./ResponseCache.ts"

/** The options of {@link responseCache}. */
export interface FastifyResponseCacheOptions {
  /** The response cache, from `ResponseCache.make`. */
  readonly cache: ResponseCache
}

interface Capture {
  readonly decision: Extract<Decision, { kind: "miss" }>
  body: Uint8Array | undefined
  failed: boolean
}

const headersOf = (reply: FastifyReply): Array<readonly [string, string]> => {
  const headers: Array<readonly [string, string]> = []
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const v of value) headers.push([name.toLowerCase(), String(v)])
    else headers.push([name.toLowerCase(), String(value)])
  }
  return headers
}

const isStream = (payload: unknown): payload is Readable =>
  typeof payload === "object" && payload !== null && typeof (payload as Readable).pipe === "function"

/**
 * The Fastify plugin of a response cache: a hit is sent from `onRequest`
 * without running the route; a miss's payload is copied in `onSend` and
 * stored in `onResponse` once it was sent in full. A lookup failure
 * (`CacheClosed`) fails the request through Fastify's error handling.
 *
 * @example
 * ```ts
 * import Fastify from "fastify"
 * import { responseCache } from "@strata/http/fastify"
 *
 * const app = Fastify()
 * await app.register(responseCache, { cache: pages })
 * app.get("/products/:id", async (request) => loadProduct(request.params.id))
 * ```
 */
export const responseCache: FastifyPluginAsync<FastifyResponseCacheOptions> = async (app, options) => {
  const { cache } = options
  const captures = new WeakMap<FastifyRequest, Capture>()
  app.addHook("onRequest", async (request, reply) => {
    const decision = await cache.lookup({
      method: request.method,
      url: request.url,
      header: (name) => {
        const value = request.headers[name]
        return Array.isArray(value) ? value.join(", ") : value
      },
    })
    if (decision.kind === "hit") {
      const { served } = decision
      reply.code(served.status)
      for (const [name, value] of served.headers) reply.header(name, value)
      const body = served.body
      return reply.send(
        body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      )
    }
    if (decision.kind === "miss") {
      reply.header("x-cache", "MISS")
      const capture: Capture = { decision, body: undefined, failed: false }
      captures.set(request, capture)
      // Fastify runs onResponse on the response's "finish" or "error": an error means it was not sent whole.
      reply.raw.once("error", () => {
        capture.failed = true
      })
    }
    return undefined
  })
  app.addHook("onSend", async (request, _reply, payload) => {
    const capture = captures.get(request)
    if (capture === undefined) return payload
    if (payload === null || payload === undefined) capture.body = new Uint8Array(0)
    else if (typeof payload === "string") capture.body = new Uint8Array(Buffer.from(payload))
    else if (payload instanceof Uint8Array) capture.body = new Uint8Array(payload)
    else if (isStream(payload)) {
      const chunks: Array<Buffer> = []
      let size = 0
      const tee = new PassThrough()
      tee.on("data", (chunk: Buffer) => {
        if (size > cache.maxBodyBytes) return
        size += chunk.byteLength
        if (size > cache.maxBodyBytes) chunks.length = 0
        else chunks.push(Buffer.from(chunk))
      })
      tee.on("end", () => {
        if (size <= cache.maxBodyBytes) capture.body = new Uint8Array(Buffer.concat(chunks))
      })
      payload.on("error", (error) => tee.destroy(error))
      return payload.pipe(tee)
    }
    if (capture.body !== undefined && capture.body.byteLength > cache.maxBodyBytes) capture.body = undefined
    return payload
  })
  app.addHook("onResponse", async (request, reply) => {
    const capture = captures.get(request)
    if (capture === undefined) return
    captures.delete(request)
    if (capture.failed) return capture.decision.pending.abandon()
    cache.finish(capture.decision.pending, {
      status: reply.statusCode,
      headers: headersOf(reply),
      body: capture.body,
    })
  })
  app.addHook("onRequestAbort", async (request) => {
    captures.get(request)?.decision.pending.abandon()
    captures.delete(request)
  })
}
// Not encapsulated: the hooks apply to the routes of the instance it is registered on (Fastify's `skip-override`).
Object.assign(responseCache, { [Symbol.for("skip-override")]: true })
