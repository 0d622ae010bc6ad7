import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** A request the upstream received. */
export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
}

/** A real node:http server on a loopback port that counts and records the requests it answers. */
export interface Upstream {
  readonly url: string
  readonly received: Array<Received>
  count(): number
  close(): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => unknown

export const startUpstream = async (handler: Handler): Promise<Upstream> => {
  const received: Array<Received> = []
  const server: Server = createServer((req, res) => {
    received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers })
    Promise.resolve(handler(req, res, received.length)).catch((error) => {
      res.statusCode = 599
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    count: () => received.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** Polls `check` until it holds or `millis` pass. */
export const eventually = async (check: () => boolean, millis = 5_000): Promise<boolean> => {
  const deadline = Date.now() + millis
  while (!check()) {
    if (Date.now() > deadline) return false
    await sleep(20)
  }
  return true
}
