import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"

/** A worker process and a way to send it commands. */
export interface Worker {
  readonly pid: number
  readonly call: <A = unknown>(op: string, args?: Record<string, unknown>) => Promise<A>
  readonly kill: () => void
}

const workerPath = fileURLToPath(new URL("./worker.ts", import.meta.url))

/** Starts a worker process (TypeScript through tsx, workspace sources) and waits until it is ready. */
export const startWorker = (env: Record<string, string>): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = fork(workerPath, [], {
      execArgv: ["--import", "tsx", "--conditions=@strata/source"],
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    })
    let next = 0
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
    const timer = setTimeout(() => reject(new Error("worker did not start within 30 s")), 30_000)
    child.on("message", (message: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
      if (message.ready === true) {
        clearTimeout(timer)
        resolve({
          pid: child.pid!,
          call: (op, args = {}) =>
            new Promise((res, rej) => {
              const id = next++
              pending.set(id, { resolve: res as (v: unknown) => void, reject: rej })
              child.send({ id, op, ...args })
            }),
          kill: () => child.kill("SIGKILL"),
        })
        return
      }
      const waiter = pending.get(message.id!)
      pending.delete(message.id!)
      if (message.error !== undefined) waiter?.reject(new Error(message.error))
      else waiter?.resolve(message.result)
    })
    child.on("exit", (code) => {
      clearTimeout(timer)
      for (const waiter of pending.values()) waiter.reject(new Error(`worker exited (${code})`))
      reject(new Error(`worker exited before it was ready (${code})`))
    })
  })

/** p-th percentile of numbers (nearest rank). */
export const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
