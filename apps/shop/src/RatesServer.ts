/**
 * A stand-in for an upstream exchange-rate API, which the shop starts on a
 * free loopback port (a real `node:http` server, so the shop's cached
 * fetch goes over real HTTP): `GET /v1/rates/<CUR>` answers the rate from
 * US dollars as JSON, with `Cache-Control: max-age=<maxAgeSeconds>` and an
 * `ETag` that changes only when the rate does, and answers `304 Not
 * Modified` to an `If-None-Match` naming the current `ETag`. It counts what
 * it answered, so the demo and the tests can tell upstream calls from
 * requests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** The rates it starts with: units of each currency per US dollar. */
export const initialRates: Readonly<Record<string, number>> = {
  USD: 1,
  EUR: 0.92,
  GBP: 0.79,
  JPY: 151.2,
  CHF: 0.88,
  SEK: 10.45,
  CAD: 1.36,
}

/** What the server answered so far. */
export interface RatesCounts {
  /** Requests answered (any status). */
  requests: number
  /** Of them, `304 Not Modified` answers to `If-None-Match`. */
  notModified: number
}

/** A running fake exchange-rate service. */
export interface RatesServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly counts: RatesCounts
  /** Changes a rate (a new `ETag`): the next revalidation gets `200` with the new body instead of `304`. */
  readonly setRate: (currency: string, rate: number) => void
  readonly close: () => Promise<void>
}

/** Whether an `If-None-Match` value names `etag` (a list, weak or strong, or `*`). */
const matches = (header: string | undefined, etag: string): boolean =>
  header?.split(",").some((tag) => {
    const t = tag.trim()
    return t === "*" || t === etag || t === `W/${etag}`
  }) ?? false

/** Starts the service on a free loopback port. */
export const start = async (options: { readonly maxAgeSeconds?: number } = {}): Promise<RatesServer> => {
  const maxAge = options.maxAgeSeconds ?? 60
  const rates = new Map(Object.entries(initialRates).map(([code, rate]) => [code, { rate, revision: 1 }]))
  const asOf = new Map<string, string>()
  const counts: RatesCounts = { requests: 0, notModified: 0 }
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": `max-age=${maxAge}` })
    res.end(JSON.stringify(body))
  }
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    counts.requests++
    const found = /^\/v1\/rates\/([A-Z]{3})$/.exec(req.url ?? "")
    if (req.method !== "GET") return json(res, 405, { error: "method not allowed" })
    const code = found?.[1]
    const entry = code === undefined ? undefined : rates.get(code)
    if (code === undefined || entry === undefined) return json(res, 404, { error: "unknown currency" })
    const etag = `"${code}-${entry.revision}"`
    res.setHeader("etag", etag)
    res.setHeader("cache-control", `max-age=${maxAge}`)
    if (matches(req.headers["if-none-match"], etag)) {
      counts.notModified++
      res.writeHead(304)
      return res.end()
    }
    res.setHeader("content-type", "application/json")
    res.end(JSON.stringify({ base: "USD", currency: code, rate: entry.rate, asOf: asOf.get(code) }))
  }
  const startedAt = new Date().toISOString()
  for (const code of rates.keys()) asOf.set(code, startedAt)
  const server = createServer(handle)
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setRate: (currency, rate) => {
      const entry = rates.get(currency)
      rates.set(currency, { rate, revision: (entry?.revision ?? 0) + 1 })
      asOf.set(currency, new Date().toISOString())
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
