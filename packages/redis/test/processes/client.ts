/** The test's worker processes (./worker.ts), one cache each. */
import { WorkerProcess } from "@strata/testkit/servers"

/** A worker process and a way to send it commands. */
export type Worker = WorkerProcess.Worker

/** Starts a worker process and waits until it is ready. */
export const startWorker = (env: Record<string, string>): Promise<Worker> =>
  WorkerProcess.start(new URL("./worker.ts", import.meta.url), env, 30_000)

/** p-th percentile of numbers (nearest rank). */
export const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
