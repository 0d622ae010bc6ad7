/**
 * Another shop process: `main.ts --serve --no-scenario` started as a child
 * process with the given environment (`REDIS_URL` to share the cache tier
 * and the bus), on the workspace sources through tsx. Used by the demo's
 * two-process step and by the two-process test.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

/** A running shop process. */
export interface Peer {
  readonly url: string
  readonly process: ChildProcess
  /** SIGTERM (the shop closes its server, cache and database), SIGKILL after 10 s. */
  readonly stop: () => Promise<void>
}

const main = fileURLToPath(new URL("./main.ts", import.meta.url))

/** Starts a shop process and resolves with its URL once it listens. */
export const start = (
  env: Record<string, string>,
  options: { readonly startTimeoutMillis?: number } = {},
): Promise<Peer> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=@strata/source", main, "--serve", "--no-scenario"],
      { env: { ...process.env, PORT: "0", ...env }, stdio: ["ignore", "pipe", "inherit"] },
    )
    let output = ""
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the shop process did not start within ${options.startTimeoutMillis ?? 90_000} ms`))
    }, options.startTimeoutMillis ?? 90_000)
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill("SIGTERM")
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      await exited
      clearTimeout(killer)
    }
    child.stdout!.setEncoding("utf8")
    child.stdout!.on("data", (chunk: string) => {
      output += chunk
      const found = /Serving at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (found !== null) {
        clearTimeout(timer)
        resolve({ url: found[1]!, process: child, stop })
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`the shop process exited (${code}) before it listened:\n${output}`))
    })
  })
