import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import type { ResponseCache } from "@strata/http"
import { cacheResponses } from "@strata/http/node"
import { type Answer, answer, type RunningApp } from "./app.ts"

/** Starts the test app behind `cache` with one framework, on a loopback port. */
export type StartApp = (cache: ResponseCache.ResponseCache) => Promise<RunningApp>

export const listen = async (server: Server, renders: () => number): Promise<RunningApp> => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    renders,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Writes an answer to a node response, chunk by chunk (so `/stream` is streamed). */
export const writeNode = async (
  res: {
    statusCode: number
    setHeader(n: string, v: string): unknown
    write(c: string): unknown
    end(): unknown
  },
  a: Answer,
) => {
  res.statusCode = a.status
  for (const [name, value] of Object.entries(a.headers)) res.setHeader(name, value)
  for (const chunk of a.chunks) {
    res.write(chunk)
    if (a.chunks.length > 1) await new Promise((resolve) => setImmediate(resolve))
  }
  res.end()
}

export const startNode: StartApp = async (cache) => {
  let n = 0
  const server = createServer(
    cacheResponses(cache, (req, res) => {
      const header = (name: string) => req.headers[name] as string | undefined
      return writeNode(res, answer(req.method ?? "GET", req.url ?? "/", header, ++n))
    }),
  )
  return listen(server, () => n)
}

export const startExpress: StartApp = async (cache) => {
  const express = (await import("express")).default
  const { cacheResponses } = await import("@strata/http/express")
  let n = 0
  const app = express()
  app.use(cacheResponses(cache))
  app.all("/{*rest}", (req, res) => {
    const a = answer(req.method, req.originalUrl, (name) => req.get(name), ++n)
    res.status(a.status).set(a.headers)
    if (a.chunks.length > 1) return void writeNode(res, a)
    res.send(a.chunks.join(""))
  })
  return listen(createServer(app), () => n)
}

export const startFastify: StartApp = async (cache) => {
  const Fastify = (await import("fastify")).default
  const { responseCache } = await import("@strata/http/fastify")
  const { Readable } = await import("node:stream")
  let n = 0
  const app = Fastify()
  await app.register(responseCache, { cache })
  app.all("/*", async (request, reply) => {
    const header = (name: string) => request.headers[name] as string | undefined
    const a = answer(request.method, request.url, header, ++n)
    reply.code(a.status).headers(a.headers)
    return a.chunks.length > 1 ? reply.send(Readable.from(a.chunks)) : a.chunks.join("")
  })
  await app.listen({ port: 0, host: "127.0.0.1" })
  const { port } = app.server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, renders: () => n, close: () => app.close() }
}

export const startHono: StartApp = async (cache) => {
  const { Hono } = await import("hono")
  const { serve } = await import("@hono/node-server")
  const { cacheResponses } = await import("@strata/http/hono")
  let n = 0
  const app = new Hono()
  app.use(cacheResponses(cache))
  app.all("*", (c) => {
    const url = new URL(c.req.url)
    const a = answer(c.req.method, `${url.pathname}${url.search}`, (name) => c.req.header(name), ++n)
    const body =
      a.chunks.length > 1
        ? new ReadableStream<Uint8Array>({
            async start(controller) {
              for (const chunk of a.chunks) {
                controller.enqueue(new TextEncoder().encode(chunk))
                await new Promise((resolve) => setImmediate(resolve))
              }
              controller.close()
            },
          })
        : a.chunks.join("")
    return new Response(body, { status: a.status, headers: a.headers })
  })
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    renders: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
