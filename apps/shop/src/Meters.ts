/**
 * What each route and each keyspace did, counted by the shop itself: the
 * engine's `stats()` are per cache, and the demo's table and the metrics page
 * show them per route and per keyspace.
 *
 * A read is counted as an L1 hit when the in-process tier answered it
 * synchronously (`peek`), a load when this process ran the loader for it,
 * joined when it was answered by a load of the same key that ran here for
 * another caller, and an L2 hit otherwise (the shared tier, or another
 * process's fill under its lease). The pattern APIs do not say which of
 * these answered a read, so {@link Flights} keeps, per keyspace, which keys
 * the loaders were loading and how often they loaded them.
 */

/** The row of the requests a rate limiter answered `429` (they count there, not on their route). */
export const RATE_LIMITED = "rate limited (429)"

/** The counts of one route. */
export interface RouteCounts {
  requests: number
  hitsL1: number
  hitsL2: number
  joined: number
  /** Loader calls this route made (a batch of keys is one call). */
  loads: number
  /** SQL statements this route sent (loaders, writes, flushes). */
  dbCalls: number
  /** Calls to the exchange-rate upstream, and how many of them answered 304 Not Modified. */
  upstream: number
  notModified: number
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

/** Where a read that missed L1 was answered. */
export type Answered = "load" | "joined" | "l2"

/** Where a read of one key started: whether a load of it was running here, and how many had ended. */
export interface ReadStart {
  readonly inFlight: boolean
  readonly loadsBefore: number
}

const add = (map: Map<string, number>, key: string, by: number) => {
  const n = (map.get(key) ?? 0) + by
  if (n === 0) map.delete(key)
  else map.set(key, n)
}

/** The loads of one keyspace in this process, by store key: what tells a joined read from an L2 hit. */
export class Flights {
  private readonly loading = new Map<string, number>()
  private readonly loaded = new Map<string, number>()
  /** Per key, the loads already claimed by one of the reads they answered (that read is the load's own). */
  private readonly claimed = new Map<string, number>()

  /** Marks `storeKeys` as loading while `load` runs. */
  async track<A>(storeKeys: ReadonlyArray<string>, load: () => Promise<A>): Promise<A> {
    for (const key of storeKeys) add(this.loading, key, 1)
    try {
      return await load()
    } finally {
      // Kept small: a long `--serve` run reads many keys once.
      if (this.loaded.size > 100_000) {
        this.loaded.clear()
        this.claimed.clear()
      }
      for (const key of storeKeys) {
        add(this.loading, key, -1)
        add(this.loaded, key, 1)
      }
    }
  }

  /** Where a read of `storeKey` starts. */
  start(storeKey: string): ReadStart {
    return { inFlight: this.loading.has(storeKey), loadsBefore: this.loaded.get(storeKey) ?? 0 }
  }

  /** Where the read of `storeKey` that started at `start` was answered. */
  settle(storeKey: string, start: ReadStart): Answered {
    const loads = this.loaded.get(storeKey) ?? 0
    if (!start.inFlight && loads === start.loadsBefore) return "l2"
    if ((this.claimed.get(storeKey) ?? 0) < loads) {
      this.claimed.set(storeKey, loads)
      return "load"
    }
    return "joined"
  }
}

/** A route's meter: what a route's patterns record their reads, loads and statements into. */
export interface Meter {
  readonly route: RouteCounts
  readonly keyspace: (name: string) => KeyspaceCounts
  readonly flights: (keyspace: string) => Flights
}

/**
 * Counts a read of keyspace `name` answered as `answered` ("l1" for a peek
 * hit): on the keyspace, and on the route too unless `keyspaceOnly` (the
 * products a listing fetches count on their keyspace only). A read answered
 * by its own load counts nothing here: the loader counted the load.
 */
export const countRead = (
  meter: Meter,
  name: string,
  answered: Answered | "l1",
  keyspaceOnly = false,
): void => {
  const space = meter.keyspace(name)
  const route = meter.route
  if (answered === "l1") {
    space.hitsL1++
    if (!keyspaceOnly) route.hitsL1++
  } else if (answered === "l2") {
    space.hitsL2++
    if (!keyspaceOnly) route.hitsL2++
  } else if (answered === "joined") {
    space.joined++
    if (!keyspaceOnly) route.joined++
  }
}

/** Every route's and keyspace's counts. */
export class Meters {
  readonly routes = new Map<string, RouteCounts>()
  readonly keyspaces = new Map<string, KeyspaceCounts>()
  private readonly flightsByKeyspace = new Map<string, Flights>()
  /** Latencies kept per route at most; older ones are dropped (a long `--serve` run stays bounded). */
  private readonly maxLatencies = 50_000

  /** The meter of `route`, made on first use. */
  meter(route: string): Meter {
    let counts = this.routes.get(route)
    if (counts === undefined) {
      counts = {
        requests: 0,
        hitsL1: 0,
        hitsL2: 0,
        joined: 0,
        loads: 0,
        dbCalls: 0,
        upstream: 0,
        notModified: 0,
        latencies: [],
      }
      this.routes.set(route, counts)
    }
    return { route: counts, keyspace: (name) => this.keyspace(name), flights: (name) => this.flights(name) }
  }

  /** The counts of keyspace `name`, made on first use. */
  keyspace(name: string): KeyspaceCounts {
    let counts = this.keyspaces.get(name)
    if (counts === undefined) {
      counts = { hitsL1: 0, hitsL2: 0, joined: 0, loads: 0 }
      this.keyspaces.set(name, counts)
    }
    return counts
  }

  /** The loads of keyspace `name`, shared by every route that reads it. */
  flights(name: string): Flights {
    let flights = this.flightsByKeyspace.get(name)
    if (flights === undefined) {
      flights = new Flights()
      this.flightsByKeyspace.set(name, flights)
    }
    return flights
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
