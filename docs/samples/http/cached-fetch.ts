import { createServer } from "node:http"
import { createCache } from "@strata/core"
import { CachedFetch, HttpKeyspace, UpstreamFailed } from "@strata/http"
import { listen } from "./listen.ts"

// #region keyspace
// Upstream weather responses: fresh for what the upstream's Cache-Control says (at most 10 minutes),
// then served for up to an hour more while the upstream is failing.
const Weather = HttpKeyspace.make({
  name: "weather",
  ttl: "10 minutes",
  staleFor: "1 hour",
})
// #endregion keyspace

export const main = async () => {
  // A stand-in for the weather API, on a loopback port: it counts its calls.
  let calls = 0
  let down = false
  const api = await listen(
    createServer((_req, res) => {
      calls++
      if (down) return void res.writeHead(503).end()
      res.setHeader("cache-control", "max-age=600")
      res.setHeader("etag", `"forecast-${calls}"`)
      setTimeout(() => res.end(JSON.stringify({ city: "Oslo", celsius: 4 })), 50)
    }),
  )
  const cache = await createCache()

  // #region fetch
  const weather = CachedFetch.make({
    cache,
    keyspace: Weather,
    freshness: "cache-control", // honour max-age, s-maxage, no-store, private, stale-* (RFC 9111, RFC 5861)
    keyHeaders: ["accept-language"], // requests differing in these are cached apart
  })
  // Ten concurrent callers of a cold key: one upstream call.
  const burst = await Promise.all(
    Array.from({ length: 10 }, () => weather(`${api.url}/forecast?city=Oslo`).then((r) => r.json())),
  )
  const again = await weather(`${api.url}/forecast?city=Oslo`)
  // #endregion fetch
  const forecastCalls = calls

  // #region failure
  // Exchange rates: fresh for 100 ms whatever the upstream says, then served for an hour while it fails.
  const Rates = HttpKeyspace.make({ name: "rates", ttl: 100, staleFor: "1 hour" })
  const rates = CachedFetch.make({ cache, keyspace: Rates })
  await (await rates(`${api.url}/rates`)).text()
  await new Promise((resolve) => setTimeout(resolve, 150))
  down = true
  const whileDown = await rates(`${api.url}/rates`) // the upstream answers 503: the stored one is served
  let failure: string | undefined
  try {
    await rates("http://127.0.0.1:9/rates") // nothing listens on port 9, and nothing is stored
  } catch (error) {
    if (error instanceof UpstreamFailed) failure = `${error._tag}: ${error.reason}`
  }
  // #endregion failure

  const result = {
    burst: burst.length,
    forecastCalls,
    again: [again.headers.get("x-cache"), (await again.json()).celsius],
    whileDown: whileDown.headers.get("x-cache"),
    failure,
  }
  await cache.close()
  await api.close()
  return result
}
