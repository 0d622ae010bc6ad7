import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"

/** A benchmark worker process and a way to send it commands. */
export interface Worker {
  readonly call: <A = unknown>(op: string, args?: Record<string, unknown>) => Promise<A>
  readonly kill: () => void
  readonly exit: () => Promise<void>
}

const workerPath = fileURLToPath(new URL("./worker.ts", import.meta.url))

/** Starts a worker (TypeScript through tsx, workspace sources) and waits until it is ready. */
export const startWorker = (env: Record<string, string>): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = fork(workerPath, [], {
      execArgv: ["--import", "tsx", "--conditions=@strata/source"],
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    })
    let next = 0
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
    const timer = setTimeout(() => reject(new Error("bench worker did not start within 60 s")), 60_000)
    child.on("message", (message: { ready?: boolean; id?: number; result?: unknown; error?: string }) => {
      if (message.ready === true) {
        clearTimeout(timer)
        const call = <A>(op: string, args: Record<string, unknown> = {}) =>
          new Promise<A>((res, rej) => {
            const id = next++
            pending.set(id, { resolve: res as (v: unknown) => void, reject: rej })
            child.send({ id, op, ...args })
          })
        resolve({
          call,
          kill: () => child.kill("SIGKILL"),
          exit: async () => {
            await call("exit").catch(() => child.kill("SIGKILL"))
          },
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
      for (const waiter of pending.values()) waiter.reject(new Error(`bench worker exited (${code})`))
      reject(new Error(`bench worker exited before it was ready (${code})`))
    })
  })

/** Starts `count` workers of one system against the run's Redis. */
export const startWorkers = (count: number, env: Record<string, string>) =>
  Promise.all(Array.from({ length: count }, () => startWorker(env)))
