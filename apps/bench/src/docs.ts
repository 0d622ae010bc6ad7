/**
 * Writes the results table and the chart list of docs/benchmarks.md from the
 * results JSON, between its `<!-- bench:results -->` and
 * `<!-- bench:charts -->` markers, so no number in the docs comes from
 * anywhere but the JSON. Links are relative (an anchor on the page, an image
 * beside it), so they work on any site base and in any viewer.
 */
import { readFileSync, writeFileSync } from "node:fs"
import type { Results } from "./report.ts"

const RESULTS = ["<!-- bench:results:start -->", "<!-- bench:results:end -->"] as const
const CHARTS = ["<!-- bench:charts:start -->", "<!-- bench:charts:end -->"] as const

/** A Markdown table with its columns padded to equal width, as the docs' formatter (Biome) writes it. */
const markdownTable = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
): Array<string> => {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)]
}

/** The results section of the docs page: the run's machine, any reruns, and one row per workload. */
export const table = (results: Results): string => {
  const lines = [
    `Run of ${results.startedAt.slice(0, 10)} (${results.quick ? "quick" : "full"}, ${results.durationSeconds} s): ${results.machine.cpus}, ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB, ${results.machine.platform}; Node ${results.node}; ${results.redis.split(" ").slice(0, 3).join(" ")}.`,
    ...(results.rerun === undefined
      ? []
      : [
          `Run separately and merged into these results: ${Object.entries(results.rerun)
            .map(([id, at]) => `${id} (${at.slice(0, 16).replace("T", " ")})`)
            .join(", ")}.`,
        ]),
    "",
  ]
  const rows = results.workloads.map((w) => {
    const numbers = w.rows.map((r) => `${r.system} ${r.metric} ${r.value.toLocaleString("en-US")}`).join("; ")
    return [
      `[${w.id}](#${w.id.toLowerCase()})`,
      w.name,
      `${w.ratio} (${w.ratioOf})`,
      w.target,
      w.met ? "yes" : "**no**",
      `${numbers}${w.notes === undefined ? "" : `. ${w.notes}`}`,
    ]
  })
  lines.push(...markdownTable(["id", "workload", "ratio", "target", "met", "numbers"], rows))
  return lines.join("\n")
}

/** The charts section of the docs page: a heading per workload (the table's anchors) and its chart. */
export const chartList = (results: Results): string =>
  results.workloads
    .map(
      (w) => `### ${w.id}\n\n![${w.id} · ${w.name}: chart of every system it measured](./bench/${w.id}.svg)`,
    )
    .join("\n\n")

/** `text` with what lies between `markers` replaced by `content`. */
export const between = (text: string, markers: readonly [string, string], content: string): string => {
  const [START, END] = markers
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < start) throw new Error(`docs/benchmarks.md lacks the ${START} ... ${END} markers`)
  return `${text.slice(0, start + START.length)}\n${content}\n${text.slice(end)}`
}

/** The benchmarks page with its generated parts written from `results`. */
export const page = (text: string, results: Results): string =>
  between(between(text, RESULTS, table(results)), CHARTS, chartList(results))

/** Rewrites the generated parts of docs/benchmarks.md ({@link table}, {@link chartList}). */
export const writeDocsTable = (results: Results): void => {
  const file = new URL("../../../docs/benchmarks.md", import.meta.url)
  writeFileSync(file, page(readFileSync(file, "utf8"), results))
}
