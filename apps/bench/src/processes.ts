/** The benchmark's worker processes (./worker.ts), one cache or peer each. */
import { WorkerProcess } from "@strata/testkit/servers"

/** A benchmark worker process and a way to send it commands. */
export type Worker = WorkerProcess.Worker

/** Starts `count` workers of one system against the run's Redis. */
export const startWorkers = (count: number, env: Record<string, string>): Promise<Array<Worker>> =>
  Promise.all(
    Array.from({ length: count }, () => WorkerProcess.start(new URL("./worker.ts", import.meta.url), env)),
  )
