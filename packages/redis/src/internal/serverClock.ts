import type { Cluster, Redis } from "ioredis"
import type { Client } from "./connection.ts"

/**
 * The Redis server's clock as seen from this process, for write deadlines.
 *
 * A write's deadline is the server time at which its caller stops waiting
 * (the command timeout after it was issued); the write scripts refuse to run
 * past it. The deadline must never be later than that moment, or a write the
 * caller gave up on could still land after a newer one. So the offset kept
 * here is a lower bound: a `TIME` whose reply arrived at local instant t1
 * was read at most at t1, so `server - t1` never exceeds the true offset.
 * On a Cluster every master is read and the lowest bound kept.
 *
 * Offsets are in milliseconds between the server's wall clock (`TIME`) and
 * this process's monotonic clock (`performance.now()`).
 */
export interface ServerClock {
  /** The deadline (server ms, an integer) for a write issued now that its caller waits `waitMillis` for. */
  readonly deadline: (waitMillis: number) => number
  /** Reads the server clock(s) again; rejects if a server does not answer. */
  readonly sync: () => Promise<void>
}

const isCluster = (client: Client): client is Cluster =>
  "nodes" in client && typeof client.nodes === "function"

/** A lower bound of `server time - performance.now()` from one `TIME` round trip. */
const lowerBound = async (node: Redis | Cluster): Promise<number> => {
  const [seconds, micros] = (await node.call("TIME")) as [string, string]
  const t1 = performance.now()
  return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000) - t1
}

/** How many recent readings the offset is the best of. */
const READINGS = 30

/**
 * Makes the clock of `client`'s server(s); call `sync` once before the first
 * `deadline`. Every reading is a lower bound, too low by however long the
 * reply waited to be read (a busy or descheduled process reads it late), so
 * the offset is the highest of the recent readings: still a lower bound, and
 * the tightest one. Without this, one late reading made deadlines early and
 * healthy writes were refused as late.
 */
export const make = (client: Client): ServerClock => {
  const readings: Array<number> = []
  let offset = Number.NaN
  return {
    deadline: (waitMillis) => Math.floor(performance.now() + offset + waitMillis),
    sync: async () => {
      const nodes = isCluster(client) ? client.nodes("master") : [client]
      const bounds = await Promise.all(nodes.map(lowerBound))
      readings.push(Math.min(...bounds))
      if (readings.length > READINGS) readings.shift()
      offset = Math.max(...readings)
    },
  }
}
