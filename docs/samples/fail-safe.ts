import { type CacheEvent, createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

// #region keyspace
const Rates = Keyspace.make({
  name: "fx.rate",
  key: Schema.Struct({ pair: Schema.String }),
  value: Schema.Struct({ rate: Schema.Number }),
  ttl: "1 second", // fresh for a second (an hour, in real life)
  staleFor: "1 hour", // then kept for an hour, served only when the loader fails or is slow
})
// #endregion keyspace

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const main = async () => {
  const events: Array<CacheEvent> = []
  // #region fail-safe
  const cache = await createCache()
  cache.on((event) => events.push(event))
  const rates = cache.keyspace(Rates)

  await rates.getOrSet({ pair: "EUR/USD" }, async () => ({ rate: 1.08 }))
  await sleep(1_100) // the entry is stale now

  // The upstream is down: the stale value is served instead of the error (a StaleServed event says so).
  const whileDown = await rates.getOrSet({ pair: "EUR/USD" }, async () => {
    throw new Error("rates API unavailable")
  })

  // The upstream is slow: after the soft timeout the stale value is served, and the load finishes in the background.
  const started = Date.now()
  const whileSlow = await rates.getOrSet(
    { pair: "EUR/USD" },
    async () => {
      await sleep(300)
      return { rate: 1.09 }
    },
    { softTimeout: "50 millis", hardTimeout: "2 seconds" },
  )
  const waitedMillis = Date.now() - started
  // #endregion fail-safe

  await sleep(400) // the background load has filled the cache by now
  const afterRefresh = await rates.get({ pair: "EUR/USD" })
  await cache.close()
  return {
    whileDown,
    whileSlow,
    waitedMillis,
    afterRefresh,
    staleServed: events.flatMap((e) => (e._tag === "StaleServed" ? [e.reason] : [])),
  }
}
