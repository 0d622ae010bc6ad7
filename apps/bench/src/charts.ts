/**
 * The benchmark charts of the docs: one SVG per workload, drawn with
 * Vega-Lite from the results JSON and nothing else. Each chart has one panel
 * per measure (its own axis, titled with its unit), every system the
 * workload measured on it, and the baseline marked; where the target is a
 * fixed number (one loader call, 10 ms) it is drawn as a rule.
 *
 * `pnpm bench` writes them after a full run; the docs build
 * (`pnpm --filter @strata/bench run charts`) renders them again from
 * apps/bench/results/latest.json into docs/bench/ (git-ignored).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"
import type { Results, Row, WorkloadResult } from "./report.ts"

/** One panel of a chart: the rows of some metrics, on one axis. */
interface Panel {
  /** What the panel measures. */
  readonly title: string
  /** The axis's unit. */
  readonly unit: string
  /** Which way is better, when one is. */
  readonly better?: "lower" | "higher" | undefined
  /** The metrics drawn, by exact name. */
  readonly metrics: ReadonlyArray<string>
  /** The bar's label; by default the system, plus the metric when a system has several bars. */
  readonly label?: (row: Row) => string
  /** A fixed target drawn as a rule. */
  readonly target?: { readonly value: number; readonly label: string }
}

const latency =
  (what: string) =>
  (percentile: string, metric: string): Panel => ({
    title: `${what}, ${percentile}`,
    unit: "µs",
    better: "lower",
    metrics: [metric],
  })

const callers = (row: Row) => {
  const n = /_(\d+)$/.exec(row.metric)?.[1]
  const stat = /_(max|mean)_/.exec(row.metric)?.[1]
  return `${row.system}${stat === undefined ? "" : ` (${stat})`} · ${Number(n).toLocaleString("en-US")} callers`
}

/**
 * The panels of each workload. A workload missing here (a new one) gets one
 * panel per metric; a panel whose metrics a run did not record is left out.
 */
const PANELS: Readonly<Record<string, ReadonlyArray<Panel>>> = {
  W1: [{ title: "Time per L1 hit", unit: "ns", better: "lower", metrics: ["ns_per_op"] }],
  W2: [
    { title: "Time per L1 hit inside a running fiber", unit: "ns", better: "lower", metrics: ["ns_per_op"] },
  ],
  W3: [{ title: "Time per awaited L1 hit", unit: "ns", better: "lower", metrics: ["ns_per_op"] }],
  W4: [{ title: "Time per L1 hit", unit: "ns", better: "lower", metrics: ["ns_per_op"] }],
  W5: [
    latency("L2 hit latency")("p50", "p50_us"),
    latency("L2 hit latency")("p99", "p99_us"),
    latency("L2 hit latency")("p99.9", "p99.9_us"),
  ],
  W6: [
    {
      title: "L2 hits per second, 256 callers in flight",
      unit: "hits/s",
      better: "higher",
      metrics: ["ops_per_s"],
    },
  ],
  W7: [
    {
      title: "Keys read per second, getMany of 100",
      unit: "keys/s",
      better: "higher",
      metrics: ["keys_per_s"],
    },
  ],
  W8: [
    { title: "Throughput, 4 processes", unit: "operations/s", better: "higher", metrics: ["ops_per_s"] },
    { title: "L1 hit ratio", unit: "hits / reads", better: "higher", metrics: ["l1_hit_ratio"] },
  ],
  W9: [
    {
      title: "Loader calls per burst (Strata: worst burst; peers: mean over bursts)",
      unit: "loader calls",
      better: "lower",
      metrics: [
        "loader_calls_max_1000",
        "loader_calls_mean_1000",
        "loader_calls_max_10000",
        "loader_calls_mean_10000",
      ],
      label: callers,
      target: { value: 1, label: "target: 1" },
    },
    {
      title: "Last waiter done after the loader returned, median over bursts",
      unit: "ms",
      better: "lower",
      metrics: ["last_waiter_after_loader_ms_p50_1000", "last_waiter_after_loader_ms_p50_10000"],
      label: callers,
      target: { value: 10, label: "target: 10 ms" },
    },
    {
      title: "Last waiter done after the first call's start + the 50 ms loader, median over bursts",
      unit: "ms",
      better: "lower",
      metrics: [
        "last_waiter_since_start_minus_loader_ms_p50_1000",
        "last_waiter_since_start_minus_loader_ms_p50_10000",
      ],
      label: callers,
    },
  ],
  W10: [
    {
      title: "Cold getOrSet p50, with and without the lease; one PING for scale",
      unit: "µs",
      better: "lower",
      metrics: ["p50_us"],
    },
  ],
  W11: [
    {
      title: "Lease holder killed: lease taken → waiter done",
      unit: "ms",
      better: "lower",
      metrics: ["waiter_done_after_lease_taken_ms_max", "waiter_done_after_lease_taken_ms_median", "ms"],
      label: (row) =>
        row.metric === "ms" ? row.system : `${row.system} (${row.metric.split("_").at(-1) ?? row.metric})`,
    },
  ],
  W12: [
    latency("A's set returned → B's listener")("p50", "p50_us"),
    latency("A's set returned → B's listener")("p99", "p99_us"),
    latency("A's set returned → B's listener")("p99.9", "p99.9_us"),
    {
      title: "Invalidations received per second",
      unit: "invalidations/s",
      better: "higher",
      metrics: ["invalidations_received_per_s"],
      target: { value: 50_000, label: "target: 50k/s" },
    },
  ],
  W13: [
    latency("Set latency, one caller")("p50", "p50_us"),
    latency("Set latency, one caller")("p99", "p99_us"),
    { title: "Writes per second, 256 in flight", unit: "writes/s", better: "higher", metrics: ["ops_per_s"] },
  ],
  W14: [
    {
      title: "Codec cost against one raw GET round trip",
      unit: "µs",
      better: "lower",
      metrics: ["us_per_op", "p50_us"],
      label: (row) =>
        row.metric === "us_per_op" ? `${row.system} (encode + decode)` : `${row.system} (p50)`,
    },
  ],
  W15: [
    {
      title: "Heap per L1 entry of a 1 KB value",
      unit: "bytes",
      better: "lower",
      metrics: ["heap_bytes_per_entry", "heap_bytes_per_entry_after_churn", "json_bytes"],
      label: (row) =>
        row.metric === "json_bytes"
          ? `${row.system} (JSON size)`
          : row.metric.endsWith("after_churn")
            ? `${row.system} (after churn)`
            : `${row.system} (start)`,
    },
    {
      title: "L1 hit latency during churn",
      unit: "µs",
      better: "lower",
      metrics: ["hit_p50_us", "hit_p99_us", "hit_p99.9_us"],
      label: (row) => `${row.system} (${row.metric.replace(/^hit_|_us$/g, "")})`,
    },
  ],
}

/** A unit for a metric no panel names, read from its suffix. */
const unitOf = (metric: string): string => {
  if (metric.endsWith("_us")) return "µs"
  if (metric.endsWith("_ms") || metric === "ms") return "ms"
  if (metric === "ns_per_op") return "ns per operation"
  if (metric.endsWith("_per_s")) return `${metric.slice(0, -"_per_s".length).replace(/_/g, " ")} per second`
  if (metric.includes("bytes")) return "bytes"
  return "count"
}

const panelsOf = (workload: WorkloadResult): Array<Panel> => {
  const recorded = (panel: Panel) => workload.rows.some((r) => panel.metrics.includes(r.metric))
  const configured = (PANELS[workload.id] ?? []).filter(recorded)
  if (configured.length > 0) return configured
  return [...new Set(workload.rows.map((r) => r.metric))].map((metric) => ({
    title: metric.replace(/_/g, " "),
    unit: unitOf(metric),
    metrics: [metric],
  }))
}

type Role = "Strata" | "baseline" | "peer"
const ROLES: ReadonlyArray<Role> = ["Strata", "baseline", "peer"]
const COLORS = ["#2f5fbf", "#444b55", "#aab3bf"]

const roleOf = (workload: WorkloadResult, system: string): Role =>
  system === workload.baseline ? "baseline" : system.startsWith("strata") ? "Strata" : "peer"

/** Splits a title into lines of at most `width` characters, at spaces. */
const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === "" ? word : `${line} ${word}`
  }
  if (line !== "") lines.push(line)
  return lines
}

/** The width every chart is drawn at: the docs' content column. */
export const WIDTH = 640
const PADDING = { left: 8, right: 16, top: 8, bottom: 8 }

/**
 * Text width in a proportional sans-serif font, in px. Vega measures text
 * with a canvas, and without one (as here, in Node) estimates 0.8 em per
 * character, which leaves labels far more room than they take; this estimate
 * (per-character widths of a Helvetica-like font, rounded up) keeps the
 * layout close to what a browser draws, erring wide.
 */
export const textWidth = (text: string, fontSize: number): number => {
  let em = 0
  for (const c of text) {
    if ("iljtfI.,:;'|!() ".includes(c)) em += 0.3
    else if ("mwMW@".includes(c)) em += 0.9
    else if (/[A-Z]/.test(c)) em += 0.7
    else if (/[0-9]/.test(c)) em += 0.58
    else em += 0.56
  }
  return Math.ceil(em * fontSize * 1.2)
}
// vega exports its text metrics at run time, but its typings leave them out.
;(
  vega as unknown as { textMetrics: { width: (item: { fontSize?: number }, text: unknown) => number } }
).textMetrics.width = (item, text) => textWidth(String(text ?? ""), item.fontSize ?? 11)

/** The Vega-Lite spec of one workload's chart. */
export const spec = (workload: WorkloadResult): TopLevelSpec => {
  const data = panelsOf(workload).map((panel) => {
    const rows = workload.rows.filter((r) => panel.metrics.includes(r.metric))
    const repeated = (system: string) => rows.filter((r) => r.system === system).length > 1
    const values = rows.map((row) => {
      const role = roleOf(workload, row.system)
      const label =
        panel.label?.(row) ?? (repeated(row.system) ? `${row.system} (${row.metric})` : row.system)
      return { label: role === "baseline" ? `${label} · baseline` : label, value: row.value, role }
    })
    return { panel, values }
  })
  // Every panel gets the same label column, so the bars of all panels start at the same x.
  const labelWidth = Math.min(
    300,
    Math.max(...data.flatMap(({ values }) => values.map((v) => textWidth(v.label, 12)))),
  )
  // The axis's extent is its labels plus the tick (5 px) and the label padding (2 px).
  const axisExtent = labelWidth + 10
  const plotWidth = WIDTH - PADDING.left - PADDING.right - axisExtent - 4
  const panels = data.map(({ panel, values }) => {
    // Room right of the longest bar for its number (and for a target beyond it).
    const longest = Math.max(...values.map((v) => v.value), panel.target?.value ?? 0)
    const domainMax = longest * (1 + (textWidth("1,234,567", 11) + 8) / plotWidth)
    const bars = {
      mark: { type: "bar" as const, height: { band: 0.7 } },
      encoding: {
        y: {
          field: "label",
          type: "nominal" as const,
          sort: null,
          title: null,
          axis: {
            labelLimit: labelWidth + 2,
            labelFontSize: 12,
            minExtent: axisExtent,
            maxExtent: axisExtent,
          },
        },
        x: {
          field: "value",
          type: "quantitative" as const,
          title: panel.unit,
          axis: {
            // SI prefixes for large numbers (50k, 1.2M), but a plain 0 (the tick format alone prints "0M").
            labelExpr:
              longest >= 10_000
                ? 'datum.value === 0 ? "0" : format(datum.value, "~s")'
                : 'format(datum.value, ",~r")',
            titleFontSize: 11,
            labelFontSize: 11,
            tickCount: 6,
            grid: true,
          },
          scale: { zero: true, domainMax, nice: false },
        },
        color: {
          field: "role",
          type: "nominal" as const,
          scale: { domain: [...ROLES], range: COLORS },
          legend: { title: null, orient: "top" as const, labelFontSize: 12 },
        },
      },
    }
    const numbers = {
      mark: { type: "text" as const, align: "left" as const, dx: 4, fontSize: 11, color: "#222" },
      encoding: {
        y: { field: "label", type: "nominal" as const, sort: null },
        x: { field: "value", type: "quantitative" as const },
        text: { field: "value", type: "quantitative" as const, format: ",.3~r" },
      },
    }
    const layers: Array<object> = [bars, numbers]
    if (panel.target !== undefined) {
      layers.push({
        data: { values: [panel.target] },
        layer: [
          {
            mark: { type: "rule", color: "#c0392b", strokeDash: [4, 3], strokeWidth: 1.5 },
            encoding: { x: { field: "value", type: "quantitative" } },
          },
          {
            mark: { type: "text", color: "#c0392b", align: "left", dx: 3, y: -6, fontSize: 11 },
            encoding: { x: { field: "value", type: "quantitative" }, text: { field: "label" } },
          },
        ],
      })
    }
    return {
      title: {
        text: wrap(`${panel.title}${panel.better === undefined ? "" : ` (${panel.better} is better)`}`, 84),
        anchor: "start" as const,
        fontSize: 12,
        fontWeight: "bold" as const,
        color: "#222",
        offset: 6,
      },
      width: plotWidth,
      height: { step: 22 },
      data: { values },
      layer: layers,
    }
  })
  const verdict = `ratio ${workload.ratio} (${workload.ratioOf}); target ${workload.target}: ${workload.met ? "met" : "missed"}`
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    padding: PADDING,
    background: "white",
    title: {
      text: wrap(`${workload.id} · ${workload.name}`, 70),
      subtitle: wrap(verdict, 95),
      anchor: "start",
      fontSize: 15,
      subtitleFontSize: 11,
      subtitleColor: "#555",
      offset: 10,
    },
    config: {
      font: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
      view: { stroke: null },
      axis: { labelColor: "#333", titleColor: "#333", titleFontWeight: "normal" },
    },
    vconcat: panels,
    spacing: 24,
    resolve: { scale: { x: "independent", y: "independent" } },
  } as TopLevelSpec
}

/** One workload's chart as an SVG document. */
export const svg = async (workload: WorkloadResult): Promise<string> => {
  const view = new vega.View(vega.parse(compile(spec(workload)).spec), { renderer: "none" })
  try {
    const drawn = await view.toSVG()
    const title = `${workload.id} · ${workload.name}`.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)
    // An accessible name for the image, first inside the root element.
    return `${drawn.replace(/^<svg([^>]*)>/, `<svg$1 role="img"><title>${title}</title>`)}\n`
  } finally {
    view.finalize()
  }
}

/** Where the docs read the charts from (git-ignored: the docs build draws them). */
export const chartsDir = new URL("../../../docs/bench/", import.meta.url)

/** Writes every workload's chart to `docs/bench/<id>.svg`, where the benchmarks page shows them. */
export const writeCharts = async (results: Results): Promise<void> => {
  mkdirSync(chartsDir, { recursive: true })
  for (const workload of results.workloads)
    writeFileSync(new URL(`${workload.id}.svg`, chartsDir), await svg(workload))
}

// `pnpm --filter @strata/bench run charts`: the charts of the committed results, for the docs build.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now()
  const results = JSON.parse(
    readFileSync(new URL("../results/latest.json", import.meta.url), "utf8"),
  ) as Results
  await writeCharts(results)
  process.stdout.write(
    `charts: ${results.workloads.length} workloads -> docs/bench/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  )
}
