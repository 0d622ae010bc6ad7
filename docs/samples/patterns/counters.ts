import { createCache, Keyspace } from "@strata/core"
import { Schema } from "effect"

// #region keyspace
// Views per article per day: each counter lives a day from its first increment.
const ArticleViews = Keyspace.counter({
  name: "blog.views",
  key: Schema.Struct({ slug: Schema.String, day: Schema.String }),
  ttl: "1 day",
})
// #endregion keyspace

export const main = async () => {
  const cache = await createCache()
  // #region increment
  const views = cache.keyspace(ArticleViews)
  const today = { slug: "caching-patterns", day: "2026-11-30" }

  // 200 concurrent increments: each is one atomic step on the authoritative tier, none is lost.
  await Promise.all(Array.from({ length: 200 }, () => views.increment(today)))
  const afterBurst = await views.get(today)

  const afterCorrection = await views.increment(today, -3) // negative steps subtract
  // #endregion increment
  await cache.close()
  return { afterBurst, afterCorrection }
}
