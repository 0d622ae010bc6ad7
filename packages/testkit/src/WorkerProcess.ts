/**
 * Child processes driven by commands over Node's IPC channel, for tests and
 * benchmarks that need several real processes (one cache each) against the
 * same Redis. The parent side starts a worker and calls it; the worker side
 * answers each command with the result of its handler.
 *
 * @example
 * ```ts
 * // worker.ts
 * WorkerProcess.serve(async (command) => (command.op === "ping" ? "pong" : undefined))
 * // test.ts
 * const worker = await WorkerProcess.start(new URL("./worker.ts", import.meta.url), {})
 * await worker.call("ping") // "pong"
 * await worker.exit()
 * ```
 *
 * @since 0.1.0
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"

/** A worker process and a way to send it commands. */
export interface Worker {
  readonly pid: number
  /** Sends `{ op, ...args }` and resolves with the worker's answer (rejects with its error). */
  readonly call: <A = unknown>(op: string, args?: Record<string, unknown>) => Promise<A>
  /** Kills the process at once (SIGKILL), as a crash would. */
  readonly kill: () => void
  /** Asks the worker to close (command `exit`), killing it if it cannot answer. */
  readonly exit: () => Promise<void>
}

/** A command as the worker receives it. */
export interface Command {
  readonly id: number
  readonly op: string
  readonly [arg: string]: unknown
}

/**
 * Starts the TypeScript module at `path` as a child process (through tsx, on
 * the workspace sources) with `env` added to the environment, and waits until
 * it calls {@link serve}. Fails if it exits or is not ready within
 * `startTimeoutMillis`.
 */
export const start = (path: URL, env: Record<string, string>, startTimeoutMillis = 60_000): Promise<Worker> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = fork(fileURLToPath(path), [], {
      execArgv: ["--import", "tsx", "--conditions=@strata/source"],
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    })
    let next = 0
    const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
    const timer = setTimeout(
      () => reject(new Error(`worker ${path.pathname} did not start within ${startTimeoutMillis} ms`)),
      startTimeoutMillis,
    )
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
          pid: child.pid!,
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
      for (const waiter of pending.values()) waiter.reject(new Error(`worker exited (${code})`))
      reject(new Error(`worker exited before it was ready (${code})`))
    })
  })

/**
 * The worker side: answers every command with `handle`'s result, or its
 * error's stack, then tells the parent it is ready. It exits when the parent
 * goes away (its IPC channel closes). A handler for `exit`
 * should close what it opened and end the process after answering.
 */
export const serve = (handle: (command: Command) => Promise<unknown>): void => {
  // A parent that dies (a killed test run) must not leave its workers running: their IPC channel closes.
  process.on("disconnect", () => process.exit(0))
  process.on("message", (command: Command) => {
    handle(command).then(
      (result) => process.send?.({ id: command.id, result }),
      (error: unknown) =>
        process.send?.({ id: command.id, error: error instanceof Error ? error.stack : String(error) }),
    )
  })
  process.send?.({ ready: true })
}
