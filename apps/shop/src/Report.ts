/**
 * The demo's printed table: per route, the requests, where the reads were
 * answered, the loader, database and upstream calls, and the latency.
 */
import { type Meters, quantile, RATE_LIMITED } from "./Meters.ts"

/** The pattern each route uses, for the table's second column. */
export const PATTERNS: Record<string, string> = {
  "GET /api/products/:id": "Repository (read-through)",
  "PUT /api/products/:id": "Repository.update (write-through)",
  "GET /api/products/:id/price": "CachedFetch (upstream rates)",
  "GET /api/categories/:id/products": "IdList + Repository.getMany",
  "GET /api/products/:id/reviews/stats": "Computed.cachedEffect",
  "POST /api/products/:id/reviews": "write + invalidateTag",
  "POST /api/carts/:userId/items": "Session.update (CAS)",
  "GET /api/carts/:userId": "Session.get",
  "GET /api/search": "Search + Repository.getMany",
  "GET /api/products/:id/views": "read from database",
  "POST /api/views/flush": "WriteBehind (flush now)",
  "view flush (write-behind)": "WriteBehind (batches)",
  [RATE_LIMITED]: "RateLimiter (per IP, per user)",
}

const COLUMNS = [
  "route",
  "pattern",
  "requests",
  "L1 hits",
  "L2 hits",
  "joined",
  "loads",
  "db calls",
  "upstream",
  "p50 ms",
  "p99 ms",
]

/** The table as lines of text. */
export const table = (meters: Meters): Array<string> => {
  // HTTP routes first, then rows with no requests of their own (the write-behind timer's flushes).
  const rows = [...meters.routes]
    .filter(([, r]) => r.requests > 0 || r.dbCalls > 0)
    .sort(([, a], [, b]) => Number(b.requests > 0) - Number(a.requests > 0))
    .map(([name, r]) => [
      name,
      PATTERNS[name] ?? "",
      String(r.requests),
      String(r.hitsL1),
      String(r.hitsL2),
      String(r.joined),
      String(r.loads),
      String(r.dbCalls),
      String(r.upstream),
      r.latencies.length === 0 ? "-" : quantile(r.latencies, 0.5).toFixed(2),
      r.latencies.length === 0 ? "-" : quantile(r.latencies, 0.99).toFixed(2),
    ])
  const total = [...meters.routes.values()].reduce(
    (sum, r) => ({
      requests: sum.requests + r.requests,
      dbCalls: sum.dbCalls + r.dbCalls,
      loads: sum.loads + r.loads,
      upstream: sum.upstream + r.upstream,
    }),
    { requests: 0, dbCalls: 0, loads: 0, upstream: 0 },
  )
  rows.push([
    "total",
    "",
    String(total.requests),
    "",
    "",
    "",
    String(total.loads),
    String(total.dbCalls),
    String(total.upstream),
    "",
    "",
  ])
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")
  return [line(COLUMNS), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)]
}
