/**
 * One app, answered the same way by every framework under test: each route
 * names a caching rule, and every body carries the render count, so a test
 * tells a render from a cache hit by the body alone.
 */

/** What the app answers: status, headers, and the body as the chunks it is written in. */
export interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly chunks: ReadonlyArray<string>
}

/** Size of `/stream`'s body, in bytes: 10 chunks of 1,000. */
export const STREAM_BYTES = 10_000

export const answer = (
  method: string,
  url: string,
  header: (name: string) => string | undefined,
  n: number,
): Answer => {
  const path = new URL(url, "http://localhost").pathname
  const who = header("authorization") ?? header("cookie") ?? "anon"
  const text = (body: string, headers: Record<string, string> = {}, status = 200): Answer => ({
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    chunks: [body],
  })
  const base = path.replace(/^\/run\d+/, "")
  if (method === "POST") return text(`posted ${path} n=${n}`)
  if (base.startsWith("/user")) return text(`user=${who} path=${path} n=${n}`)
  if (base.startsWith("/lang"))
    return text(`lang=${header("accept-language") ?? ""} n=${n}`, { vary: "Accept-Language" })
  if (base.startsWith("/cookie")) return text(`cookie n=${n}`, { "set-cookie": `session=${n}; HttpOnly` })
  if (base === "/private") return text(`private n=${n}`, { "cache-control": "private, max-age=60" })
  if (base === "/nostore") return text(`nostore n=${n}`, { "cache-control": "no-store" })
  if (base === "/malformed") return text(`malformed n=${n}`, { "cache-control": "max-age=abc, ,,=" })
  if (base === "/missing") return text(`missing n=${n}`, {}, 404)
  if (base === "/moved") return text(`moved n=${n}`, { location: "/" }, 301)
  if (base === "/stream")
    return {
      status: 200,
      headers: { "content-type": "text/plain" },
      chunks: Array.from({ length: 10 }, (_, i) => String(i).repeat(1_000)),
    }
  return text(`page ${url} n=${n}`)
}

/** A running app: its base URL, how many times it rendered, and how to stop it. */
export interface RunningApp {
  readonly url: string
  renders(): number
  close(): Promise<void>
}
