/**
 * A TCP proxy between a client and a server, on loopback, that injects
 * network faults: pass bytes through, delay them, black-hole them (accept
 * bytes from both sides and deliver nothing, as a dead link does), or cut
 * every connection (and refuse new ones while cut).
 *
 * A black hole holds bytes rather than dropping them: TCP never loses bytes
 * in the middle of a live connection, it retransmits them once the link
 * heals, so `pass()` after `blackHole()` delivers what was held, in order.
 * To model a link that never comes back, `cut()` instead.
 *
 * @since 0.1.0
 */
import { createServer, type Server, Socket } from "node:net"

/** How the proxy treats traffic. */
export type Mode =
  | { readonly _tag: "Pass" }
  | { readonly _tag: "Delay"; readonly millis: number }
  | { readonly _tag: "BlackHole" }
  | { readonly _tag: "Refuse" }

export interface FaultProxy {
  readonly port: number
  /** Connections currently open through the proxy. */
  readonly connections: () => number
  /** Forwards bytes as they come. */
  pass(): void
  /** Forwards bytes after `millis` milliseconds. */
  delay(millis: number): void
  /** Keeps connections open and accepts bytes, but delivers nothing either way. */
  blackHole(): void
  /** Destroys every open connection; with `refuse`, also closes new ones at once until `pass`. */
  cut(options?: { readonly refuse?: boolean }): void
  close(): Promise<void>
}

interface Link {
  readonly client: Socket
  readonly upstream: Socket
  /** Bytes held by a black hole, per direction, delivered on `pass()`. */
  readonly held: Array<{ readonly to: Socket; readonly chunk: Buffer }>
}

/**
 * Starts a proxy on a free loopback port forwarding to `targetPort`.
 *
 * @example
 * ```ts
 * const redis = await startRedis()
 * const proxy = await startFaultProxy(redis.port)
 * const client = new Redis(proxy.port, "127.0.0.1")
 * proxy.blackHole() // the client's connection stays "ready" but nothing arrives
 * ```
 */
export const startFaultProxy = async (targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> => {
  let mode: Mode = { _tag: "Pass" }
  const links = new Set<Link>()

  const forward = (link: Link, from: Socket, to: Socket) => {
    from.on("data", (chunk: Buffer) => {
      const current = mode
      if (current._tag === "Refuse") return
      if (current._tag === "BlackHole") {
        link.held.push({ to, chunk })
        return
      }
      if (current._tag === "Delay") {
        from.pause()
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk)
          from.resume()
        }, current.millis)
      } else if (!to.destroyed) {
        to.write(chunk)
      }
    })
  }

  const server: Server = createServer((client) => {
    if (mode._tag === "Refuse") {
      client.destroy()
      return
    }
    const upstream = new Socket()
    const link: Link = { client, upstream, held: [] }
    links.add(link)
    const close = () => {
      links.delete(link)
      client.destroy()
      upstream.destroy()
    }
    client.on("error", close)
    upstream.on("error", close)
    client.on("close", close)
    upstream.on("close", close)
    upstream.connect(targetPort, targetHost)
    forward(link, client, upstream)
    forward(link, upstream, client)
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0

  const cutAll = () => {
    for (const link of links) {
      link.client.destroy()
      link.upstream.destroy()
    }
    links.clear()
  }

  return {
    port,
    connections: () => links.size,
    pass: () => {
      mode = { _tag: "Pass" }
      for (const link of links) {
        for (const { to, chunk } of link.held.splice(0)) if (!to.destroyed) to.write(chunk)
      }
    },
    delay: (millis) => {
      mode = { _tag: "Delay", millis }
    },
    blackHole: () => {
      mode = { _tag: "BlackHole" }
    },
    cut: (options = {}) => {
      if (options.refuse === true) mode = { _tag: "Refuse" }
      cutAll()
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll()
        server.close(() => resolve())
      }),
  }
}
