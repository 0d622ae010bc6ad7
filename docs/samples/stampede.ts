import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

const Reports = Keyspace.make({
  name: "report.daily",
  key: Schema.Struct({ day: Schema.String }),
  value: Schema.Struct({ day: Schema.String, orders: Schema.Int }),
  ttl: "1 hour",
})

export const main = async () => {
  let loaderCalls = 0
  const buildReport = async (day: string) => {
    loaderCalls++
    await new Promise((resolve) => setTimeout(resolve, 50)) // a slow query
    return { day, orders: 1_284 }
  }

  // #region stampede
  const cache = await createCache()
  const reports = cache.keyspace(Reports)
  // 500 requests for the same cold key at once: one loader call, 500 answers.
  const answers = await Promise.all(
    Array.from({ length: 500 }, () => reports.getOrSet({ day: "2026-11-30" }, ({ day }) => buildReport(day))),
  )
  const { loads, coalesced } = cache.stats()
  // #endregion stampede
  await cache.close()
  return { answers: answers.length, loaderCalls, loads, coalesced }
}
