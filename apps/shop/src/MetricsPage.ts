/**
 * The live metrics page (`/metrics`, also `/`): a plain HTML page rendered
 * with the numbers of the moment, which then fetches `/metrics.json` every
 * second and redraws its tables. No framework, no build step.
 */
import type { ShopContext } from "./Context.ts"
import { quantile, RATE_LIMITED } from "./Meters.ts"

/** The numbers the page shows. */
export interface Snapshot {
  readonly cache: Record<string, number | string>
  readonly keyspaces: ReadonlyArray<Record<string, number | string>>
  readonly routes: ReadonlyArray<Record<string, number | string>>
}

const ratio = (hits: number, total: number) => (total === 0 ? "-" : `${((100 * hits) / total).toFixed(1)}%`)

/** The cache's, keyspaces' and routes' numbers now. */
export const snapshot = (shop: ShopContext): Snapshot => {
  const s = shop.cache.stats()
  const upstream = [...shop.meters.routes.values()].reduce(
    (sum, r) => ({ calls: sum.calls + r.upstream, notModified: sum.notModified + r.notModified }),
    { calls: 0, notModified: 0 },
  )
  return {
    cache: {
      "hits L1": s.hitsL1,
      "hits L2": s.hitsL2,
      misses: s.misses,
      "hit ratio": ratio(s.hitsL1 + s.hitsL2, s.hitsL1 + s.hitsL2 + s.misses),
      loads: s.loads,
      "joined a load": s.coalesced,
      "stale served": s.staleServed,
      "bus messages in": s.busIn,
      "bus gaps": s.gaps,
      "L1 entries": s.l1Entries,
      "database statements": shop.db.statements(),
      "views written (write-behind)": shop.views.counts().flushed,
      "views dropped (write-behind buffer full)": shop.views.counts().dropped,
      "exchange-rate upstream calls": upstream.calls,
      "of them 304 Not Modified": upstream.notModified,
      "requests rate-limited (429)": shop.meters.routes.get(RATE_LIMITED)?.requests ?? 0,
    },
    keyspaces: [...shop.meters.keyspaces].map(([name, k]) => ({
      keyspace: name,
      "hits L1": k.hitsL1,
      "hits L2": k.hitsL2,
      joined: k.joined,
      loads: k.loads,
      "hit ratio": ratio(k.hitsL1 + k.hitsL2 + k.joined, k.hitsL1 + k.hitsL2 + k.joined + k.loads),
    })),
    routes: [...shop.meters.routes]
      .filter(([, r]) => r.requests > 0)
      .map(([name, r]) => ({
        route: name,
        requests: r.requests,
        "hits L1": r.hitsL1,
        "hits L2": r.hitsL2,
        loads: r.loads,
        "db calls": r.dbCalls,
        upstream: r.upstream,
        "p50 ms": quantile(r.latencies, 0.5).toFixed(2),
        "p99 ms": quantile(r.latencies, 0.99).toFixed(2),
      })),
  }
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A table of rows with the same columns, as HTML (also built by the page's script: same markup). */
const table = (rows: ReadonlyArray<Record<string, number | string>>) => {
  const columns = Object.keys(rows[0] ?? {})
  return `<table><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>${rows
    .map((row) => `<tr>${columns.map((c) => `<td>${escapeHtml(String(row[c]))}</td>`).join("")}</tr>`)
    .join("")}</table>`
}

const script = `
const esc = (t) => String(t).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";")
const table = (rows) => {
  const cols = Object.keys(rows[0] || {})
  return "<table><tr>" + cols.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr>" +
    rows.map((r) => "<tr>" + cols.map((c) => "<td>" + esc(r[c]) + "</td>").join("") + "</tr>").join("") + "</table>"
}
const draw = (s) => {
  document.getElementById("cache").innerHTML = table(Object.entries(s.cache).map(([k, v]) => ({ counter: k, value: v })))
  document.getElementById("keyspaces").innerHTML = table(s.keyspaces)
  document.getElementById("routes").innerHTML = table(s.routes)
  document.getElementById("updated").textContent = new Date().toLocaleTimeString()
}
const tick = () => fetch("/metrics.json").then((r) => r.json()).then(draw).catch(() => {
  document.getElementById("updated").textContent = "shop unreachable"
})
setInterval(tick, 1000)
`

/** The page, with `now`'s numbers already in it (readable before its script runs). */
export const html = (now: Snapshot): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Strata shop: cache metrics</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2rem; color: #222 }
table { border-collapse: collapse; margin-bottom: 1.5rem }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right }
th:first-child, td:first-child { text-align: left }
</style></head><body>
<h1>Strata shop: live cache metrics</h1>
<p>Refreshed every second from <a href="/metrics.json">/metrics.json</a>; last update <span id="updated">at page load</span>.</p>
<h2>Cache</h2><div id="cache">${table(Object.entries(now.cache).map(([k, v]) => ({ counter: k, value: v })))}</div>
<h2>By keyspace</h2><div id="keyspaces">${table(now.keyspaces)}</div>
<h2>By route</h2><div id="routes">${table(now.routes)}</div>
<script>${script}</script>
</body></html>`
