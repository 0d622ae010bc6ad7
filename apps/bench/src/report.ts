/** The results a run writes, in the shape tools read (apps/bench/results/latest.json). */
export interface Row {
  readonly system: string
  readonly metric: string
  readonly value: number
}

export interface WorkloadResult {
  readonly id: string
  readonly name: string
  readonly rows: ReadonlyArray<Row>
  /** The system the ratio is taken against. */
  readonly baseline: string
  /** Candidate / baseline, in the direction the target states. */
  readonly ratio: number
  /** The target as the issue states it, e.g. "<= 1.2". */
  readonly target: string
  readonly met: boolean
  /** What the ratio is of, in words. */
  readonly ratioOf: string
  readonly notes?: string | undefined
}

export interface Results {
  readonly machine: {
    readonly cpus: string
    readonly cores: number
    readonly memoryGiB: number
    readonly platform: string
  }
  readonly node: string
  readonly redis: string
  readonly quick: boolean
  readonly startedAt: string
  readonly durationSeconds: number
  readonly workloads: ReadonlyArray<WorkloadResult>
  /** Workloads rerun into these results with `--merge`, and when. */
  readonly rerun?: Readonly<Record<string, string>> | undefined
}

/** Whether `ratio` meets a target like "<= 1.5" or ">= 0.8". */
export const meets = (ratio: number, target: string): boolean => {
  const match = /^(<=|>=)\s*([\d.]+)/.exec(target)
  if (match === null) throw new Error(`target ${target} is not "<= n" or ">= n"`)
  return match[1] === "<=" ? ratio <= Number(match[2]) : ratio >= Number(match[2])
}

/** Rounds to 3 significant figures for the JSON (measurements are not more precise than that). */
export const round = (value: number): number => Number(value.toPrecision(3))
