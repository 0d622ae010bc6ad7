/**
 * What each route and each keyspace did, counted by the shop itself: the
 * engine's `stats()` are per cache, and the demo's table and the metrics page
 * show them per route and per keyspace.
 *
 * A read is counted as an L1 hit when the in-process tier answered it
 * synchronously, a load when this process ran the loader for it, joined when
 * it waited on a load of the same key already running here, and an L2 hit
 * otherwise (the shared tier, or another process's fill under its lease).
 */

/** The counts of one route. */
export interface RouteCounts {
  requests: number
  hitsL1: number
  hitsL2: number
  joined: number
  loads: number
  /** SQL statements this route sent (loaders, writes, flushes). */
  dbCalls: number
  /** Response times in ms, in arrival order (the demo's runs are short enough to keep them all). */
  readonly latencies: Array<number>
}

/** The counts of one keyspace. */
export interface KeyspaceCounts {
  hitsL1: number
  hitsL2: number
  joined: number
  loads: number
}

/** A route's meter: what a pattern records its reads and statements into. */
export interface Meter {
  readonly route: RouteCounts
  readonly keyspace: (name: string) => KeyspaceCounts
}

/** Every route's and keyspace's counts. */
export class Meters {
  readonly routes = new Map<string, RouteCounts>()
  readonly keyspaces = new Map<string, KeyspaceCounts>()
  /** Latencies kept per route at most; older ones are dropped (a long `--serve` run stays bounded). */
  private readonly maxLatencies = 50_000

  /** The meter of `route`, made on first use. */
  meter(route: string): Meter {
    let counts = this.routes.get(route)
    if (counts === undefined) {
      counts = { requests: 0, hitsL1: 0, hitsL2: 0, joined: 0, loads: 0, dbCalls: 0, latencies: [] }
      this.routes.set(route, counts)
    }
    return { route: counts, keyspace: (name) => this.keyspace(name) }
  }

  keyspace(name: string): KeyspaceCounts {
    let counts = this.keyspaces.get(name)
    if (counts === undefined) {
      counts = { hitsL1: 0, hitsL2: 0, joined: 0, loads: 0 }
      this.keyspaces.set(name, counts)
    }
    return counts
  }

  /** Records one answered request of `route` that took `millis`. */
  request(route: string, millis: number): void {
    const counts = this.meter(route).route
    counts.requests++
    if (counts.latencies.length >= this.maxLatencies) counts.latencies.splice(0, counts.latencies.length / 2)
    counts.latencies.push(millis)
  }
}

/** The `q` quantile (0..1) of `values` by nearest rank, 0 for none. */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
