/**
 * SVG bar charts for the docs, one per workload, generated from the results
 * JSON (never from anything else): each bar is a row of the workload's main
 * metric, Strata highlighted.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import type { Results, WorkloadResult } from "./report.ts"

const escapeXml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!)

/** The metric a chart shows: the first metric of the workload's rows. */
const chartRows = (workload: WorkloadResult) => {
  const metric = workload.rows[0]?.metric
  return { metric, rows: workload.rows.filter((r) => r.metric === metric) }
}

/** One workload's chart: a bar per system for its main metric, titled, with the verdict as its footer. */
export const svg = (workload: WorkloadResult): string => {
  const { metric, rows } = chartRows(workload)
  const width = 640
  const barHeight = 26
  const top = 46
  const height = top + rows.length * (barHeight + 8) + 30
  const max = Math.max(...rows.map((r) => r.value), 1e-9)
  const labelWidth = 190
  const bars = rows
    .map((r, i) => {
      const y = top + i * (barHeight + 8)
      const w = Math.max(1, ((width - labelWidth - 110) * r.value) / max)
      const strata = r.system.startsWith("strata")
      return `<text x="${labelWidth - 8}" y="${y + 18}" text-anchor="end" font-size="13">${escapeXml(r.system)}</text>
<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${strata ? "#3b6fd4" : "#9aa5b1"}"/>
<text x="${labelWidth + w + 6}" y="${y + 18}" font-size="13">${r.value.toLocaleString("en-US")}</text>`
    })
    .join("\n")
  const verdict = `${workload.ratioOf}: ${workload.ratio} (target ${workload.target}) ${workload.met ? "met" : "missed"}`
  const title = escapeXml(`${workload.id} · ${workload.name}`)
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" font-family="system-ui, sans-serif">
<title>${title}: ${escapeXml(verdict)}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="12" y="20" font-size="15" font-weight="600">${title}</text>
<text x="12" y="38" font-size="12" fill="#555">${escapeXml(`${metric ?? ""}`)}</text>
${bars}
<text x="12" y="${height - 10}" font-size="11" fill="#555">${escapeXml(verdict)}</text>
</svg>
`
}

/** Writes every workload's chart to `docs/public/bench/<id>.svg`, where the docs page embeds them. */
export const writeCharts = (results: Results): void => {
  const dir = new URL("../../../docs/public/bench/", import.meta.url)
  mkdirSync(dir, { recursive: true })
  for (const workload of results.workloads) writeFileSync(new URL(`${workload.id}.svg`, dir), svg(workload))
}
