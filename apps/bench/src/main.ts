/**
 * `pnpm bench`: runs every workload (W1–W15, F1–F8, X1, R1, H1) against its own redis-server and
 * writes apps/bench/results/latest.json, the SVG charts under
 * docs/bench/ (git-ignored; the docs build draws them again) and the results
 * table and chart list of docs/benchmarks.md.
 *
 *   pnpm bench                 every workload (W15 churns for 10 minutes)
 *   pnpm bench --quick         a reduced run (a few minutes)
 *   pnpm bench --smoke         every quick workload once, with a tenth of its work: checks that
 *                              the suite runs and writes valid results (what CI runs); timings mean nothing
 *   pnpm bench --only W5,W9    some workloads
 *   pnpm bench --dated         also keep a dated copy of the results
 *   pnpm bench --only W9 --merge   rerun some workloads into the existing latest.json
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, totalmem } from "node:os"
import { RedisHarness } from "@strata/testkit/servers"
import { writeCharts } from "./charts.ts"
import { writeDocsTable } from "./docs.ts"
import type { Results, WorkloadResult } from "./report.ts"
import type { Workload } from "./workload.ts"
import { W8, W9, W10, W11, W12 } from "./workloads/cluster.ts"
import { F1, F2, F3, F4, F5, F6, F7, F8 } from "./workloads/facade.ts"
import { W15 } from "./workloads/heap.ts"
import { H1 } from "./workloads/http.ts"
import { W1, W2, W3, W4 } from "./workloads/l1.ts"
import { W5, W6, W7, W13, W14 } from "./workloads/l2.ts"
import { R1 } from "./workloads/ratelimit.ts"
import { X1 } from "./workloads/refresh.ts"

const all: ReadonlyArray<Workload> = [
  W1,
  W2,
  W3,
  W4,
  W5,
  W6,
  W7,
  W8,
  W9,
  W10,
  W11,
  W12,
  W13,
  W14,
  W15,
  F1,
  F2,
  F3,
  F4,
  F5,
  F6,
  F7,
  F8,
  X1,
  R1,
  H1,
]

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const option = (name: string) => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1)
}
const smoke = flag("--smoke")
const quick = flag("--quick") || smoke
const only = option("--only")
  ?.split(",")
  .map((id) => id.trim().toUpperCase())
const unknown = only?.filter((id) => !all.some((w) => w.id === id)) ?? []
if (unknown.length > 0) {
  console.error(`unknown workload(s): ${unknown.join(", ")}; known: ${all.map((w) => w.id).join(", ")}`)
  process.exit(2)
}
const selected = all.filter(
  (w) => (only === undefined || only.includes(w.id)) && !(quick && w.fullOnly === true),
)

const started = Date.now()
const redis = await RedisHarness.startRedis()
const log = (line: string) => process.stdout.write(`  ${line}\n`)
const results: Array<WorkloadResult> = []
let failed = false
try {
  for (const [index, workload] of selected.entries()) {
    const t0 = Date.now()
    process.stdout.write(`[${index + 1}/${selected.length}] ${workload.id} ${workload.name}\n`)
    try {
      const result = await workload.run({
        quick,
        redis,
        log,
        scale: (full, reduced) =>
          smoke && typeof reduced === "number"
            ? (Math.max(1, Math.ceil(reduced / 10)) as typeof reduced)
            : quick
              ? reduced
              : full,
        rounds: smoke ? 1 : 5,
        prefix: `bench-${workload.id.toLowerCase()}:`,
      })
      results.push(result)
      const mark = result.met ? "met" : "MISSED"
      process.stdout.write(
        `  → ratio ${result.ratio} (${result.ratioOf}), target ${result.target}: ${mark}${result.notes === undefined ? "" : `; ${result.notes}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
      )
    } catch (error) {
      failed = true
      process.stdout.write(
        `  → failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      )
    }
    await redis.command("FLUSHALL")
  }
} finally {
  await RedisHarness.stopAll([redis])
}

const cpu = cpus()
const dir = new URL("../results/", import.meta.url)
const latest = new URL("latest.json", dir)
const merge = flag("--merge") && existsSync(latest)
const previous: Results | undefined = merge ? JSON.parse(readFileSync(latest, "utf8")) : undefined
if (previous !== undefined && previous.quick !== quick) {
  console.error("--merge needs the same kind of run (full or quick) as the results it merges into")
  process.exit(2)
}
const merged =
  previous === undefined
    ? results
    : previous.workloads
        .map((w) => results.find((r) => r.id === w.id) ?? w)
        .concat(results.filter((r) => !previous.workloads.some((w) => w.id === r.id)))
const output: Results = {
  machine: {
    cpus: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
  },
  node: process.version,
  redis: RedisHarness.requireRedisServer(),
  quick,
  startedAt: new Date(started).toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  workloads: merged,
  ...(previous === undefined
    ? {}
    : {
        startedAt: previous.startedAt,
        durationSeconds: previous.durationSeconds,
        rerun: {
          ...previous.rerun,
          ...Object.fromEntries(results.map((r) => [r.id, new Date(started).toISOString()])),
        },
      }),
}
mkdirSync(dir, { recursive: true })
writeFileSync(latest, `${JSON.stringify(output, null, 2)}\n`)
if (flag("--dated"))
  copyFileSync(latest, new URL(`${output.startedAt.slice(0, 10)}${quick ? "-quick" : ""}.json`, dir))
if (!quick && (only === undefined || merge)) {
  await writeCharts(output)
  writeDocsTable(output)
}
const missed = results.filter((r) => !r.met).map((r) => r.id)
process.stdout.write(
  `\n${results.length} workloads in ${Math.round((Date.now() - started) / 1000)} s; targets met: ${results.length - missed.length}, missed: ${missed.length === 0 ? "none" : missed.join(", ")}; results in apps/bench/results/latest.json\n`,
)
process.exit(failed ? 1 : 0)
