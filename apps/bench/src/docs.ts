/**
 * Writes the results table of docs/benchmarks.md from the results JSON, between
 * its `<!-- bench:results -->` markers, so no number in the docs comes from
 * anywhere but the JSON.
 */
import { readFileSync, writeFileSync } from "node:fs"
import type { Results } from "./report.ts"

const START = "<!-- bench:results:start -->"
const END = "<!-- bench:results:end -->"

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
          `Rerun later into the same results: ${Object.entries(results.rerun)
            .map(([id, at]) => `${id} (${at.slice(0, 16).replace("T", " ")})`)
            .join(", ")}.`,
        ]),
    "",
  ]
  const rows = results.workloads.map((w) => {
    const numbers = w.rows.map((r) => `${r.system} ${r.metric} ${r.value.toLocaleString("en-US")}`).join("; ")
    return [
      `[${w.id}](/bench/${w.id}.svg)`,
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

/** Replaces the text between the results markers of docs/benchmarks.md with {@link table}. */
export const writeDocsTable = (results: Results): void => {
  const page = new URL("../../../docs/benchmarks.md", import.meta.url)
  const text = readFileSync(page, "utf8")
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < 0) throw new Error(`docs/benchmarks.md lacks the ${START} ... ${END} markers`)
  writeFileSync(page, `${text.slice(0, start + START.length)}\n${table(results)}\n${text.slice(end)}`)
}
