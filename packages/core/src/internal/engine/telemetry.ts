/**
 * What a cache counts and reports, declared once: the table below names
 * every counter and the Effect metric it feeds. `Stats`, the metrics and
 * their sync are all derived from it, so a counter cannot be added to one
 * and forgotten in another. Counters are plain numbers on the hot path (an
 * L1 hit pays one increment); they are pushed into the metrics every
 * `metricsIntervalMillis` and whenever `stats()` is read.
 *
 * Events go to listeners one by one, each isolated: a listener that throws
 * is counted (`listenerErrors`) and logged, and neither the call that raised
 * the event nor the other listeners notice.
 */
import { type Context, Effect, Metric, Queue, Stream } from "effect"
import type { CacheEvent } from "../../CacheEvent.ts"
import * as CacheMetrics from "../../CacheMetrics.ts"

interface CounterSpec {
  readonly metric: Metric.Metric<number, unknown>
  readonly attributes?: Record<string, string>
}

/** Every counter of a cache and the metric it is pushed into. */
export const COUNTERS = {
  hitsL1: { metric: CacheMetrics.hits, attributes: { tier: "l1" } },
  hitsL2: { metric: CacheMetrics.hits, attributes: { tier: "l2" } },
  misses: { metric: CacheMetrics.misses },
  loads: { metric: CacheMetrics.loads },
  loadFailures: { metric: CacheMetrics.loadFailures },
  coalesced: { metric: CacheMetrics.coalesced },
  staleServed: { metric: CacheMetrics.staleServed },
  entriesDropped: { metric: CacheMetrics.entriesDropped },
  l2Errors: { metric: CacheMetrics.l2Errors },
  storeErrors: { metric: CacheMetrics.storeErrors },
  busIn: { metric: CacheMetrics.busMessages, attributes: { direction: "in" } },
  busOut: { metric: CacheMetrics.busMessages, attributes: { direction: "out" } },
  gaps: { metric: CacheMetrics.gaps },
  gapDrops: { metric: CacheMetrics.gapDrops },
  voidedFills: { metric: CacheMetrics.voidedFills },
  leaseWaits: { metric: CacheMetrics.leaseWaits },
  earlyRefreshes: { metric: CacheMetrics.earlyRefreshes },
  listenerErrors: { metric: CacheMetrics.listenerErrors },
} as const satisfies Record<string, CounterSpec>

/** The name of a counter. */
export type CounterName = keyof typeof COUNTERS

/** Every counter's value. */
export type Counts = { -readonly [K in CounterName]: number }

/** Gauges read at sync time: circuit state (0 closed, 1 half-open, 2 open) and L1 entries. */
export interface Gauges {
  readonly circuit: number
  readonly l1Entries: number
}

/** A cache's counters and events. */
export interface Telemetry {
  /** The counters, incremented in place by the engine. */
  readonly counts: Counts
  /** Counts the event where it has a counter and hands it to every listener (isolated). */
  readonly emit: (event: CacheEvent) => void
  /** Registers a listener; returns the function that removes it. */
  readonly onEvent: (listener: (event: CacheEvent) => void) => () => void
  /** Every event, from subscription on. */
  readonly events: Stream.Stream<CacheEvent>
  /** Pushes counter deltas and the gauges into the Effect metrics. */
  readonly sync: (gauges: Gauges) => void
  /** Records a successful loader call of the keyspace `space` and its duration (ms). */
  readonly loaderTook: (space: string, millis: number) => void
  /** The keyspace's recent loader duration in ms (a moving average), or `undefined` before its first load. */
  readonly loaderMillis: (space: string) => number | undefined
  /** Records the age past freshness (ms) of a stale value served. */
  readonly staleAged: (millis: number) => void
}

const names = Object.keys(COUNTERS) as ReadonlyArray<CounterName>

/**
 * Makes the telemetry of the cache named `name`. `context` is where metrics
 * are recorded; `runFork` runs the log line of a listener that threw.
 */
export const make = (
  name: string,
  context: Context.Context<never>,
  runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown,
): Telemetry => {
  const counts = Object.fromEntries(names.map((n) => [n, 0])) as Counts
  const pushed = Object.fromEntries(names.map((n) => [n, 0])) as Counts
  const metrics = Object.fromEntries(
    names.map((n) => {
      const spec: CounterSpec = COUNTERS[n]
      return [n, Metric.withAttributes(spec.metric, { cache: name, ...spec.attributes })]
    }),
  ) as Record<CounterName, Metric.Metric<number, unknown>>
  const circuitGauge = Metric.withAttributes(CacheMetrics.circuitState, { cache: name })
  const l1Gauge = Metric.withAttributes(CacheMetrics.l1Entries, { cache: name })
  const loaderHistogram = Metric.withAttributes(CacheMetrics.loaderDuration, { cache: name })
  const staleHistogram = Metric.withAttributes(CacheMetrics.staleAge, { cache: name })

  const listeners = new Set<(event: CacheEvent) => void>()
  const emit = (event: CacheEvent) => {
    if (event._tag === "EntryDropped") counts.entriesDropped++
    else if (event._tag === "StaleServed") counts.staleServed++
    else if (event._tag === "StoreFailed") counts.storeErrors++
    for (const listener of listeners) {
      try {
        listener(event)
      } catch (error) {
        counts.listenerErrors++
        runFork(Effect.logWarning(`strata cache "${name}": an event listener threw on ${event._tag}`, error))
      }
    }
  }
  const onEvent = (listener: (event: CacheEvent) => void) => {
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
    }
  }
  const events = Stream.callback<CacheEvent>((queue) =>
    Effect.acquireRelease(
      Effect.sync(() => onEvent((event) => Queue.offerUnsafe(queue, event))),
      (remove) => Effect.sync(remove),
    ),
  )
  const sync = (gauges: Gauges) => {
    for (const n of names) {
      const delta = counts[n] - pushed[n]
      if (delta > 0) {
        metrics[n].updateUnsafe(delta, context)
        pushed[n] = counts[n]
      }
    }
    circuitGauge.updateUnsafe(gauges.circuit, context)
    l1Gauge.updateUnsafe(gauges.l1Entries, context)
  }
  // Per keyspace, an exponential moving average of loader durations: the δ of early refresh.
  const loaderAverages = new Map<string, number>()
  const loaderTook = (space: string, millis: number) => {
    loaderHistogram.updateUnsafe(millis, context)
    const previous = loaderAverages.get(space)
    loaderAverages.set(space, previous === undefined ? millis : previous * 0.8 + millis * 0.2)
  }
  const staleAged = (millis: number) => staleHistogram.updateUnsafe(millis, context)
  const loaderMillis = (space: string) => loaderAverages.get(space)
  return { counts, emit, onEvent, events, sync, loaderTook, loaderMillis, staleAged }
}
