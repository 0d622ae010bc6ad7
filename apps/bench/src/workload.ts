import type { RedisHarness } from "@strata/testkit/servers"
import type { WorkloadResult } from "./report.ts"

/** What a workload gets from the runner. */
export interface Context {
  readonly quick: boolean
  /** The run's own redis-server (loopback, no persistence). */
  readonly redis: RedisHarness.RedisServer
  /** Progress output. */
  readonly log: (line: string) => void
  /** `full` in a full run, `quick` with `--quick`. */
  readonly scale: <A>(full: A, quick: A) => A
  /** Interleaved rounds per comparison (at least 5). */
  readonly rounds: number
  /** A key prefix unique to this workload, so workloads never read each other's keys. */
  readonly prefix: string
}

export interface Workload {
  readonly id: string
  readonly name: string
  /** Only in full runs (too long for `--quick`). */
  readonly fullOnly?: boolean
  readonly run: (context: Context) => Promise<WorkloadResult>
}
