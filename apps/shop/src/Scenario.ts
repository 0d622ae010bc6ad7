/**
 * The demo's scripted scenario, driven through real HTTP requests against a
 * running shop: a stampede on a cold product, prices in other currencies
 * (the exchange-rate upstream, cached), skewed browsing, a price change,
 * reviews, concurrent cart adds, searches, the same prices again after the
 * upstream's max-age (revalidated), a user over the rate limit, and the
 * view-count flush. Each step checks what it should see; the result holds
 * what was seen.
 */

/** What the scenario saw. */
export interface ScenarioResult {
  readonly stampede: { readonly requests: number; readonly productLoads: number }
  readonly browsing: { readonly requests: number }
  readonly price: { readonly before: number; readonly after: number; readonly seen: number }
  readonly reviews: { readonly before: number; readonly after: number }
  readonly cart: { readonly requests: number; readonly quantity: number }
  readonly searches: { readonly requests: number; readonly distinctQueries: number }
  /** Price requests in other currencies: answered from the upstream (MISS), after a 304 (REVALIDATED). */
  readonly prices: {
    readonly requests: number
    readonly currencies: number
    readonly misses: number
    readonly revalidated: number
  }
  /** One user's requests over the per-user limit: how many were answered 429, and a `Retry-After`. */
  readonly limited: { readonly requests: number; readonly denied: number; readonly retryAfter: string }
  readonly views: { readonly product: number; readonly total: number; readonly stored: number }
}

/** How much traffic each step sends. */
export interface ScenarioSize {
  readonly stampede: number
  readonly browsing: number
  readonly cartAdds: number
  readonly searches: number
  /** Price requests per currency, in each of the two price steps. */
  readonly prices: number
  /** Requests in flight at once during browsing and searches. */
  readonly concurrency: number
}

/** The demo's traffic. */
export const defaultSize: ScenarioSize = {
  stampede: 200,
  browsing: 2_000,
  cartAdds: 50,
  searches: 200,
  prices: 20,
  concurrency: 16,
}

/** A small deterministic PRNG (mulberry32), so every run sends the same requests. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
}

/** Samples ranks 1..n with Zipf's law: rank r has probability proportional to r^-s. */
const zipf = (n: number, s: number) => {
  const cumulative = new Float64Array(n)
  let total = 0
  for (let r = 1; r <= n; r++) cumulative[r - 1] = total += r ** -s
  return (next: () => number) => {
    const u = next() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo + 1
  }
}

/** Popularity skew of products, categories and queries (Zipf exponent). */
const SKEW = 1.4

const check = (ok: boolean, message: string) => {
  if (!ok) throw new Error(`scenario check failed: ${message}`)
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
const pool = async <A>(items: ReadonlyArray<A>, concurrency: number, work: (item: A) => Promise<void>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!)
    }),
  )
}

/** The currencies the price steps ask for. */
const CURRENCIES = ["EUR", "GBP", "JPY"]

/**
 * Runs the scenario against the shop at `url` (a catalog of `products`
 * products in `categories` categories, whose exchange-rate upstream sends
 * `max-age=<ratesMaxAgeSeconds>`, default 1).
 */
export const run = async (
  url: string,
  options: {
    readonly size?: ScenarioSize
    readonly products: number
    readonly categories: number
    readonly ratesMaxAgeSeconds?: number
  },
): Promise<ScenarioResult> => {
  const size = options.size ?? defaultSize
  const request = async <A>(method: string, path: string, body?: unknown, user?: number): Promise<A> => {
    const headers: Record<string, string> = user === undefined ? {} : { "x-user-id": String(user) }
    if (body !== undefined) headers["content-type"] = "application/json"
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
    return JSON.parse(text) as A
  }
  const get = <A>(path: string) => request<A>("GET", path)
  const next = random(14)

  // 1. A cold product goes viral: everyone opens its page at the same moment.
  const viral = 777
  const metricsBefore = await get<{ keyspaces: Array<{ keyspace: string; loads: number }> }>("/metrics.json")
  const productLoads = () =>
    get<{ keyspaces: Array<{ keyspace: string; loads: number }> }>("/metrics.json").then(
      (m) => m.keyspaces.find((k) => k.keyspace === "shop.product")?.loads ?? 0,
    )
  const loadsBefore = metricsBefore.keyspaces.find((k) => k.keyspace === "shop.product")?.loads ?? 0
  await Promise.all(Array.from({ length: size.stampede }, () => get(`/api/products/${viral}`)))
  const stampedeLoads = (await productLoads()) - loadsBefore
  check(stampedeLoads <= 1, `the stampede loaded product ${viral} ${stampedeLoads} times`)

  // 2. Prices in other currencies: one upstream call per currency, for all concurrent requests.
  const prices = async () => {
    const answered = await Promise.all(
      CURRENCIES.flatMap((currency) =>
        Array.from({ length: size.prices }, async (_, i) => {
          const response = await fetch(`${url}/api/products/${1 + (i % 10)}/price?currency=${currency}`)
          check(response.ok, `a price in ${currency} answered ${response.status}`)
          await response.arrayBuffer()
          return response.headers.get("x-rate-cache")
        }),
      ),
    )
    return {
      misses: answered.filter((c) => c === "MISS").length,
      revalidated: answered.filter((c) => c === "REVALIDATED").length,
    }
  }
  const firstPrices = await prices()
  const pricedAt = performance.now()
  check(
    firstPrices.misses === CURRENCIES.length,
    `${firstPrices.misses} upstream answers for ${CURRENCIES.length} currencies`,
  )

  // 3. Skewed browsing: a few products and categories get most of the traffic.
  const product = zipf(options.products, SKEW)
  const category = zipf(options.categories, SKEW)
  const visits = Array.from({ length: size.browsing }, () =>
    next() < 0.8
      ? `/api/products/${product(next)}`
      : `/api/categories/${category(next)}/products?page=${1 + Math.floor(next() * next() * 3)}`,
  )
  await pool(visits, size.concurrency, async (path) => {
    await get(path)
  })

  // 4. A price change is seen by the next read.
  const hot = 1
  const before = (await get<{ priceCents: number }>(`/api/products/${hot}`)).priceCents
  const after = before + 1_000
  await request("PUT", `/api/products/${hot}`, { priceCents: after })
  const seen = (await get<{ priceCents: number }>(`/api/products/${hot}`)).priceCents
  check(seen === after, `product ${hot} showed price ${seen} after the update to ${after}`)
  const listed = await get<{ products: Array<{ id: number; priceCents: number }> }>(
    `/api/categories/${hot + 1}/products`,
  )
  check(
    listed.products.find((p) => p.id === hot)?.priceCents === after,
    "the category listing shows the new price",
  )

  // 5. Review statistics are computed once, and recomputed after a new review.
  const statsBefore = await get<{ count: number }>(`/api/products/${hot}/reviews/stats`)
  for (let i = 0; i < 50; i++) await get(`/api/products/${hot}/reviews/stats`)
  await request("POST", `/api/products/${hot}/reviews`, { userId: 42, rating: 5, body: "Great value." }, 42)
  const statsAfter = await get<{ count: number }>(`/api/products/${hot}/reviews/stats`)
  check(statsAfter.count === statsBefore.count + 1, "the review statistics count the new review")

  // 6. One shopper's tabs add to the cart at the same moment: no add is lost.
  const user = 42
  await Promise.all(
    Array.from({ length: size.cartAdds }, () =>
      request("POST", `/api/carts/${user}/items`, { productId: 5, quantity: 1 }, user),
    ),
  )
  const cart = await request<{ lines: Array<{ productId: number; quantity: number }> }>(
    "GET",
    `/api/carts/${user}`,
    undefined,
    user,
  )
  const quantity = cart.lines.find((line) => line.productId === 5)?.quantity ?? 0
  check(quantity === size.cartAdds, `the cart holds ${quantity} of product 5 after ${size.cartAdds} adds`)

  // 7. Searches: the same few queries typed in many ways share cache entries.
  const queries = ["cozy lamp", "swift sneaker", "vintage watch", "rugged tent", "sleek chair", "bold scarf"]
  const query = zipf(queries.length, SKEW)
  const typed = Array.from({ length: size.searches }, () => {
    const words = queries[query(next) - 1]!.split(" ")
    const variant = next() < 0.5 ? words : [...words].reverse()
    const text = next() < 0.5 ? variant.join(" ").toUpperCase() : variant.join("  ")
    return `/api/search?q=${encodeURIComponent(text)}`
  })
  await pool(typed, size.concurrency, async (path) => {
    await get(path)
  })

  // 8. The same prices once the upstream's max-age has passed: revalidated (304), never fetched whole again.
  const maxAgeMillis = (options.ratesMaxAgeSeconds ?? 1) * 1_000
  const wait = maxAgeMillis + 50 - (performance.now() - pricedAt)
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  const laterPrices = await prices()
  check(laterPrices.misses === 0, `${laterPrices.misses} prices were fetched whole again after max-age`)
  check(laterPrices.revalidated > 0, "no price was revalidated after the upstream's max-age")

  // 9. One user sends more requests than the per-user limit a minute: the ones over it get 429.
  const scraper = 666
  const asUser = (path: string) => fetch(`${url}${path}`, { headers: { "x-user-id": String(scraper) } })
  const probe = await asUser("/api/search?q=bold")
  await probe.arrayBuffer()
  const policy = /"shop\.api\.user";q=(\d+)/.exec(probe.headers.get("ratelimit-policy") ?? "")
  check(policy !== null, `no per-user RateLimit-Policy header: ${probe.headers.get("ratelimit-policy")}`)
  let denied = 0
  let retryAfter = ""
  await pool(Array.from({ length: Number(policy![1]) + 10 }), size.concurrency, async () => {
    const response = await asUser("/api/search?q=bold")
    await response.arrayBuffer()
    if (response.status === 429) {
      denied++
      retryAfter = response.headers.get("retry-after") ?? ""
    } else check(response.ok, `a search answered ${response.status}`)
  })
  check(denied > 0 && /^\d+$/.test(retryAfter), `${denied} answers 429, Retry-After "${retryAfter}"`)

  // 10. View counts, buffered in process, are written in batches.
  await request("POST", "/api/views/flush")
  const views = await get<{ total: number; stored: number }>(`/api/products/${viral}/views`)
  check(views.stored >= size.stampede, `product ${viral} has ${views.stored} views stored`)

  return {
    stampede: { requests: size.stampede, productLoads: stampedeLoads },
    browsing: { requests: size.browsing },
    price: { before, after, seen },
    reviews: { before: statsBefore.count, after: statsAfter.count },
    cart: { requests: size.cartAdds, quantity },
    searches: { requests: size.searches, distinctQueries: queries.length },
    prices: {
      requests: 2 * size.prices * CURRENCIES.length,
      currencies: CURRENCIES.length,
      misses: firstPrices.misses + laterPrices.misses,
      revalidated: laterPrices.revalidated,
    },
    limited: { requests: Number(policy![1]) + 11, denied, retryAfter },
    views: { product: viral, total: views.total, stored: views.stored },
  }
}

/**
 * With a second shop process on the same Redis: a price change through the
 * first is polled for on the second; resolves with how long it took to be
 * seen there (ms), or fails after 5 s.
 */
export const acrossProcesses = async (url: string, peerUrl: string, productId: number): Promise<number> => {
  const read = async (base: string) =>
    ((await (await fetch(`${base}/api/products/${productId}`)).json()) as { priceCents: number }).priceCents
  const before = await read(url)
  await read(peerUrl)
  const response = await fetch(`${url}/api/products/${productId}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ priceCents: before + 1 }),
  })
  check(response.ok, `the update answered ${response.status}`)
  const written = performance.now()
  while (performance.now() - written < 5_000) {
    if ((await read(peerUrl)) === before + 1) return performance.now() - written
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error("scenario check failed: the other process did not see the update within 5 s")
}
