/**
 * The test side of the black-box suites: starts nodes (./processes/node.ts,
 * one cache each, used only through the public Promise facade) and gives
 * their answers types. Also small helpers every file of this folder shares.
 */
import { randomUUID } from "node:crypto"
import { WorkerProcess } from "@strata/testkit/servers"

/** An answer of a node: the result, or the tag of the failure a user would have caught. */
export type Attempt<A> =
  | { readonly ok: true; readonly result: A; readonly startedAt: number; readonly doneAt: number }
  | { readonly ok: false; readonly tag: string; readonly startedAt: number; readonly doneAt: number }

/** A value as a node reads it: the item's `value`, `null` on a miss, `!<tag>` when the read failed. */
export type Read = string | number | null

export interface Status {
  readonly pid: number
  readonly loaderCalls: number
  readonly loaderStarts: ReadonlyArray<{ key: string; at: number }>
  /** uncaughtException / unhandledRejection seen by the process. */
  readonly unhandled: ReadonlyArray<string>
  readonly events: ReadonlyArray<{ tag: string; at: number }>
  readonly stats: Record<string, unknown> & { loads: number; l2Errors: number }
}

type Space = "item" | "stale" | "tagged" | "other" | "count"

/** A node process and typed calls to it. */
export interface Node {
  readonly pid: number
  readonly get: (key: string, ks?: Space) => Promise<Attempt<Read>>
  readonly getMany: (keys: ReadonlyArray<string>, ks?: Space) => Promise<Attempt<Array<Read>>>
  readonly set: (
    key: string,
    value: string | number,
    ks?: Space,
    options?: Record<string, unknown>,
  ) => Promise<Attempt<void>>
  readonly delete: (key: string, ks?: Space) => Promise<Attempt<void>>
  readonly invalidateTag: (tag: string) => Promise<Attempt<void>>
  readonly clear: (ks?: Space) => Promise<Attempt<void>>
  readonly increment: (key: string, by: number) => Promise<Attempt<number>>
  /** `increment` by a value IPC cannot carry, by name: NaN, Infinity, -Infinity, -0, 1.5, 2^53, "1", {}, null. */
  readonly incrementBy: (key: string, name: string) => Promise<Attempt<number>>
  readonly getCount: (key: string) => Promise<Attempt<number | null>>
  readonly getOrSet: (
    key: string,
    value: string,
    options?: {
      ks?: Space
      loaderMillis?: number
      gate?: boolean
      options?: Record<string, unknown>
    },
  ) => Promise<Attempt<{ value: string; by: number }>>
  /** Lets a gated loader of `key` return. */
  readonly release: (key: string) => Promise<void>
  /** Reads `key` every `every` ms for `millis` ms: `[start time, read]` pairs. */
  readonly readLoop: (
    key: string,
    millis: number,
    every: number,
    ks?: Space,
  ) => Promise<Array<[number, Read]>>
  readonly status: () => Promise<Status>
  readonly close: () => Promise<Attempt<void>>
  /** SIGKILL, as a crash. */
  readonly kill: () => void
  readonly exit: () => Promise<void>
}

export interface NodeEnv {
  /** Redis URL of the store, or "none". */
  readonly store: string
  /** Redis URL of the bus (default: the store's), or "none". */
  readonly bus?: string | undefined
  readonly prefix: string
  readonly channel: string
  /** JSON-able options merged into `createCache`'s. */
  readonly cacheOptions?: Record<string, unknown> | undefined
  /** Registers a listener that always throws. */
  readonly throwingListener?: boolean | undefined
}

/** Starts a node and waits until its cache is open. */
export const startNode = async (env: NodeEnv): Promise<Node> => {
  const worker = await WorkerProcess.start(
    new URL("./processes/node.ts", import.meta.url),
    {
      BB_STORE_URL: env.store,
      BB_BUS_URL: env.bus ?? env.store,
      BB_PREFIX: env.prefix,
      BB_CHANNEL: env.channel,
      BB_CACHE_OPTIONS: JSON.stringify(env.cacheOptions ?? {}),
      BB_LISTENER: env.throwingListener === true ? "throw" : "",
    },
    60_000,
  )
  const call = worker.call
  let killed = false
  return {
    pid: worker.pid,
    get: (key, ks) => call("get", { key, ks }),
    getMany: (keys, ks) => call("getMany", { keys, ks }),
    set: (key, value, ks, options) => call("set", { key, value, ks, options }),
    delete: (key, ks) => call("delete", { key, ks }),
    invalidateTag: (tag) => call("invalidateTag", { tag }),
    clear: (ks) => call("clear", { ks }),
    increment: (key, by) => call("increment", { key, by }),
    incrementBy: (key, name) => call("increment", { key, byName: name }),
    getCount: (key) => call("getCount", { key }),
    getOrSet: (key, value, options = {}) => call("getOrSet", { key, value, ...options }),
    release: async (key) => {
      await call("release", { key })
    },
    readLoop: (key, millis, every, ks) => call("readLoop", { key, millis, every, ks }),
    status: () => call("status"),
    close: () => call("close"),
    kill: () => {
      killed = true
      worker.kill()
    },
    // A killed process has no IPC channel left to send `exit` on.
    exit: () =>
      killed
        ? Promise.resolve()
        : Promise.race([worker.exit(), sleep(5_000).then(() => worker.kill())]).then(() => {
            killed = true
          }),
  }
}

/** A fresh prefix and channel, so tests on a shared server never see each other's keys or messages. */
export const isolation = () => {
  const id = randomUUID().slice(0, 8)
  return { prefix: `bb-${id}:`, channel: `bb-${id}` }
}

/** Wall-clock ms comparable with the nodes' times. */
export const wall = () => performance.timeOrigin + performance.now()

export const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

/** Polls `check` until it is true or `millis` pass; returns whether it became true. */
export const until = async (check: () => Promise<boolean>, millis = 10_000, every = 20) => {
  const deadline = Date.now() + millis
  for (;;) {
    if (await check().catch(() => false)) return true
    if (Date.now() > deadline) return false
    await sleep(every)
  }
}

/** Starts several nodes at once, keeping track of them so `stopNodes` can end them. */
export const nodePool = () => {
  const started: Array<Node> = []
  return {
    start: async (count: number, env: NodeEnv | ((i: number) => NodeEnv)) => {
      const nodes = await Promise.all(
        Array.from({ length: count }, (_, i) => startNode(typeof env === "function" ? env(i) : env)),
      )
      started.push(...nodes)
      return nodes
    },
    stopAll: async () => {
      await Promise.all(started.splice(0).map((n) => n.exit().catch(() => n.kill())))
    },
  }
}

/**
 * When a node's reads settled on `expected`: the start time of the first read
 * of the final run of reads that all saw `expected`, or `undefined` if the
 * last read did not see it.
 */
export const convergedAt = (reads: ReadonlyArray<[number, Read]>, expected: Read): number | undefined => {
  if (reads.length === 0 || reads.at(-1)![1] !== expected) return undefined
  let i = reads.length - 1
  while (i > 0 && reads[i - 1]![1] === expected) i--
  return reads[i]![0]
}

/** The start time of the last read that saw `value`, or `undefined`. */
export const lastSeen = (reads: ReadonlyArray<[number, Read]>, value: Read): number | undefined => {
  for (let i = reads.length - 1; i >= 0; i--) if (reads[i]![1] === value) return reads[i]![0]
  return undefined
}
