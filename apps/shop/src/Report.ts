/**
 * The demo's printed table: per route, the requests, where the reads were
 * answered, the loader and database calls, and the latency.
 */
import { type Meters, quantile } from "./Meters.ts"

/** The pattern each route uses, for the table's first column. */
export const PATTERNS: Record<string, string> = {
  "GET /api/products/:id": "cache-aside + single flight",
  "PUT /api/products/:id": "write-through, versioned",
  "GET /api/categories/:id/products": "ID list + batched read",
  "GET /api/products/:id/reviews/stats": "computed, tag-invalidated",
  "POST /api/products/:id/reviews": "write + invalidateTag",
  "POST /api/carts/:userId/items": "session, compare-and-set",
  "GET /api/carts/:userId": "session read",
  "GET /api/search": "search, normalised key",
  "GET /api/products/:id/views": "read from database",
  "POST /api/views/flush": "write-behind flush",
  "view flush (write-behind)": "write-behind (timer)",
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
      r.latencies.length === 0 ? "-" : quantile(r.latencies, 0.5).toFixed(2),
      r.latencies.length === 0 ? "-" : quantile(r.latencies, 0.99).toFixed(2),
    ])
  const total = [...meters.routes.values()].reduce(
    (sum, r) => ({
      requests: sum.requests + r.requests,
      dbCalls: sum.dbCalls + r.dbCalls,
      loads: sum.loads + r.loads,
    }),
    { requests: 0, dbCalls: 0, loads: 0 },
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
    "",
    "",
  ])
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")
  return [line(COLUMNS), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)]
}
