/**
 * Response capture for `node:http`-style responses (node:http itself and
 * Express, which writes through the same object): the body is copied as it
 * is written, up to a limit, while it still goes to the client unchanged.
 */
import type { IncomingMessage, ServerResponse as NodeResponse } from "node:http"
import type { Decision, ResponseCache, Served, ServerRequest } from "../ResponseCache.ts"

/** The neutral view of a node request; `url` is the path and query as received. */
export const requestOf = (req: IncomingMessage, url = req.url ?? "/"): ServerRequest => ({
  method: req.method ?? "GET",
  url,
  header: (name) => {
    const value = req.headers[name]
    return Array.isArray(value) ? value.join(", ") : value
  },
})

/** Sends a stored response. */
export const send = (res: NodeResponse, served: Served): void => {
  for (const [name, value] of served.headers) res.setHeader(name, value)
  res.statusCode = served.status
  res.end(
    served.body === undefined
      ? undefined
      : Buffer.from(served.body.buffer, served.body.byteOffset, served.body.byteLength),
  )
}

const toBuffer = (chunk: unknown, encoding: unknown): Buffer | undefined => {
  if (chunk === undefined || chunk === null || typeof chunk === "function") return undefined
  if (typeof chunk === "string")
    return Buffer.from(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8")
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return undefined
}

/**
 * Copies what the app writes to `res`, up to `limit` bytes, and hands the
 * response to `cache.finish` when it has been sent in full (`abandon` when the
 * connection closed first).
 */
export const capture = (
  cache: ResponseCache,
  decision: Extract<Decision, { kind: "miss" }>,
  res: NodeResponse,
): void => {
  const chunks: Array<Buffer> = []
  let size = 0
  let over = false
  const keep = (chunk: unknown, encoding: unknown) => {
    if (over) return
    const buffer = toBuffer(chunk, encoding)
    if (buffer === undefined) return
    size += buffer.byteLength
    if (size > cache.maxBodyBytes) {
      over = true
      chunks.length = 0
    } else chunks.push(Buffer.from(buffer))
  }
  const write = res.write
  const end = res.end
  res.write = function (this: NodeResponse, chunk: unknown, ...rest: Array<unknown>) {
    keep(chunk, rest[0])
    return (write as (...args: Array<unknown>) => boolean).call(this, chunk, ...rest)
  } as NodeResponse["write"]
  res.end = function (this: NodeResponse, chunk?: unknown, ...rest: Array<unknown>) {
    keep(chunk, rest[0])
    return (end as (...args: Array<unknown>) => NodeResponse).call(this, chunk, ...rest)
  } as NodeResponse["end"]
  res.setHeader("x-cache", "MISS")
  res.once("close", () => {
    if (!res.writableFinished) return decision.pending.abandon()
    const headers: Array<readonly [string, string]> = []
    for (const [name, value] of Object.entries(res.getHeaders())) {
      if (value === undefined) continue
      if (Array.isArray(value)) for (const v of value) headers.push([name, v])
      else headers.push([name, String(value)])
    }
    cache.finish(decision.pending, {
      status: res.statusCode,
      headers,
      body: over ? undefined : new Uint8Array(Buffer.concat(chunks)),
    })
  })
}
