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
