/**
 * The cache: typed reads and writes through keyspaces, over an in-process
 * tier (L1), an optional shared tier (L2, any `Store`) and an optional bus
 * that carries invalidations between processes.
 *
 * Read path, top to bottom (`get`, then `getOrSet`'s `load`):
 *
 * 1. L1 fresh hit → return, synchronously.
 * 2. Take a fill ticket (see `FillGuard`), read L2 (with its version when the
 *    store is versioned), check tag versions, fill L1 with the remaining TTL
 *    (capped by `l1.maxTtl`, and by `l1.busDownMaxTtl` while the bus is
 *    down) unless an invalidation voided the ticket meanwhile → return.
 * 3. `getOrSet` miss: one flight per key per process; across processes the
 *    store's lease lets one load while the others wait for its `Filled`
 *    message (or poll) and load themselves if the lease lapses.
 * 4. The loader runs in its own fiber with soft and hard timeouts; its
 *    value is written to L2 as a compare-and-set on the version read in 2
 *    (so it never lands over a newer write or a delete), then to L1 if the
 *    ticket still holds. A stale value inside its grace window is served on a
 *    loader failure or a soft timeout (the load goes on in the background).
 *
 * Write path (`set`, `setMany`, `delete`, `invalidateTag`, `clear`): encode
 * and validate first, then L2, then L1, then publish on the bus. A write
 * whose L2 step failed drops the key from L1 and is never published.
 *
 * @since 0.1.0
 */
import {
  Cause,
  Clock,
  Context,
  Deferred,
  type Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Metric,
  Option,
  Queue,
  Result,
  Scope,
  Stream,
  Tracer,
} from "effect"
import { Bus, type BusEvent, type Service as BusService, type Message } from "./Bus.ts"
import type { CacheEvent } from "./CacheEvent.ts"
import * as CacheMetrics from "./CacheMetrics.ts"
import * as Entry from "./Entry.ts"
import {
  EntryTooLarge,
  type InvalidDuration,
  type InvalidKey,
  type InvalidValue,
  type StoreError,
  StoreUnavailable,
  Timeout,
} from "./Errors.ts"
import { Circuit, type CircuitState } from "./internal/circuit.ts"
import { monotonicMillis } from "./internal/clock.ts"
import { MAX_DURATION_MS, toMillis } from "./internal/duration.ts"
import { FillGuard, type Ticket } from "./internal/fillGuard.ts"
import { freezeDeep } from "./internal/freeze.ts"
import { L1, type L1Slot } from "./internal/l1.ts"
import { getOrCreate } from "./internal/maps.ts"
import * as Msgpack from "./internal/msgpack.ts"
import type { Counter, Keyspace } from "./Keyspace.ts"
import * as SingleFlight from "./SingleFlight.ts"
import type * as StoreModule from "./Store.ts"
import { type Leases, Store, type Service as StoreService } from "./Store.ts"

/** The internal space that holds tag versions in the shared tier. */
export const TAGS_SPACE = "_tags"

/** Per-call options of `set`. */
export interface WriteOptions {
  /** Overrides the keyspace's `ttl` for this entry. */
  readonly ttl?: Duration.Input | undefined
  /** Overrides the keyspace's `staleFor` for this entry. */
  readonly staleFor?: Duration.Input | undefined
}

/** Per-call options of `getOrSet`: TTL overrides and loader timeouts. */
export interface LoadOptions extends WriteOptions {
  /**
   * When a stale value is at hand and the loader takes longer than this,
   * serve the stale value now and let the load finish in the background.
   */
  readonly softTimeout?: Duration.Input | undefined
  /** The loader is interrupted after this long and the load fails with `Timeout` (or serves a stale value). */
  readonly hardTimeout?: Duration.Input | undefined
}

/** A loader: an effect, or a function of the key returning one. */
export type Loader<K, V, E, R> = Effect.Effect<V, E, R> | ((key: K) => Effect.Effect<V, E, R>)

/** Counters of what a cache did since it started. */
export interface Stats {
  readonly hitsL1: number
  readonly hitsL2: number
  readonly misses: number
  /** Loader calls (each single flight counts once). */
  readonly loads: number
  readonly loadFailures: number
  /** Callers that joined a load already in flight instead of starting one. */
  readonly coalesced: number
  readonly staleServed: number
  readonly entriesDropped: number
  /** Shared-tier calls that failed or timed out. */
  readonly l2Errors: number
  /** Failures the cache recovered from on a path that could go on without the store. */
  readonly storeErrors: number
  readonly busIn: number
  readonly busOut: number
  readonly gaps: number
  /** L1 entries dropped because of gaps. */
  readonly gapDrops: number
  /** Fills not stored in L1 because an invalidation arrived while they were in flight. */
  readonly voidedFills: number
  /** Loads that waited for another process's lease instead of calling the loader. */
  readonly leaseWaits: number
  readonly circuit: CircuitState
  readonly l1Entries: number
  readonly l1Bytes: number
  /** Fills (loads and L2 reads) in flight: 0 at quiescence. */
  readonly fillsInFlight: number
  /** Single flights in progress: 0 at quiescence. */
  readonly flightsInProgress: number
  /** Loads waiting for another process's lease: 0 at quiescence. */
  readonly leaseWaiters: number
}

/** Bounds of the in-process tier. */
export interface L1Options {
  /** Most entries kept; default 10,000. */
  readonly maxEntries?: number | undefined
  /** Most bytes kept, counted as encoded size; default 64 MiB. */
  readonly maxBytes?: number | undefined
  /**
   * Longest an L1 copy stays fresh, whatever the entry's TTL. Default: none
   * with a bus (invalidations keep L1 coherent), 5 s in front of a shared
   * store without a bus (the bound on how stale another process's write can
   * leave this L1).
   */
  readonly maxTtl?: Duration.Input | undefined
  /** Longest an L1 copy stays fresh while the bus reports it is down. Default 1 s. */
  readonly busDownMaxTtl?: Duration.Input | undefined
}

/** The options of {@link make} and {@link layer}. */
export interface Options {
  /** A name for metrics (`cache` attribute) and spans. Default `"default"`. */
  readonly name?: string | undefined
  /** Bounds of the in-process tier, or `false` to run without one. */
  readonly l1?: L1Options | false | undefined
  /** Largest encoded entry accepted, in bytes. Default 1 MiB. */
  readonly maxEntryBytes?: number | undefined
  /**
   * Cross-process stampede protection, when the store offers leases: how long
   * a lease lasts (a holder that dies frees it after this) and how often a
   * waiter polls L2 when no `Filled` message comes. Default 5 s and 50 ms;
   * `false` turns leases off.
   */
  readonly lease?:
    | { readonly ttl?: Duration.Input | undefined; readonly pollInterval?: Duration.Input | undefined }
    | false
    | undefined
  /** Default loader timeouts, overridable per call. None by default. */
  readonly loader?:
    | { readonly softTimeout?: Duration.Input | undefined; readonly hardTimeout?: Duration.Input | undefined }
    | undefined
  /**
   * Circuit breaker on the shared tier: open after `failures` consecutive
   * failures, probe again after `cooldown`. Default 5 and 2 s; `false` turns it off.
   */
  readonly circuitBreaker?:
    | { readonly failures?: number | undefined; readonly cooldown?: Duration.Input | undefined }
    | false
    | undefined
  /**
   * Spans around L2 and loader calls: `"auto"` (default) creates them when a
   * tracer other than Effect's built-in one is installed where the cache is
   * built (an OpenTelemetry layer, say), since spans nobody exports cost an L2
   * hit about a sixth of its throughput; `true` or `false` decides outright.
   */
  readonly spans?: "auto" | boolean | undefined
  /** How often counters are pushed into Effect metrics. Default 1,000 ms. */
  readonly metricsIntervalMillis?: number | undefined
  /**
   * Turns off the guards against stale fills (tickets and compare-and-set
   * fills). Only for tests that show the guards are needed; never in production.
   */
  readonly unsafeDisableFillGuards?: boolean | undefined
}

/** The cache's operations. Every method is typed by the keyspace it is given. */
export interface Service {
  /** The fresh value under `key`, from L1 or L2, or `None`. Never calls a loader. */
  readonly get: <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
  ) => Effect.Effect<Option.Option<V>, InvalidKey | StoreError>
  /**
   * The fresh value under `key`; on a miss, runs `loader` once for all
   * concurrent callers in this process (and, with leases, once across
   * processes), stores its value and returns it. A failed load is not cached;
   * a stale value inside its grace window is served instead of a failure or
   * after a soft timeout. Store failures on this path are recovered from
   * (reported as `StoreFailed` events).
   */
  readonly getOrSet: <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    loader: Loader<K, V, E, R>,
    options?: LoadOptions,
  ) => Effect.Effect<V, E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | Timeout, R>
  /** Stores `value` under `key` (L2, then L1, then the bus). */
  readonly set: <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
    value: V,
    options?: WriteOptions,
  ) => Effect.Effect<void, InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | StoreError>
  /** Removes `key` (L2, then L1, then the bus). */
  readonly delete: <K, V>(keyspace: Keyspace<K, V>, key: K) => Effect.Effect<void, InvalidKey | StoreError>
  /** `get` for many keys, in order; one L2 round trip for all L1 misses. */
  readonly getMany: <K, V>(
    keyspace: Keyspace<K, V>,
    keys: ReadonlyArray<K>,
  ) => Effect.Effect<ReadonlyArray<Option.Option<V>>, InvalidKey | StoreError>
  /** `set` for many entries. Every key and value is validated before anything is written. */
  readonly setMany: <K, V>(
    keyspace: Keyspace<K, V>,
    entries: ReadonlyArray<readonly [K, V]>,
    options?: WriteOptions,
  ) => Effect.Effect<void, InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | StoreError>
  /** Makes every entry carrying `tag` a miss from now on, in every process. */
  readonly invalidateTag: (tag: string) => Effect.Effect<void, StoreError>
  /** Removes every entry of a keyspace, in every process. */
  readonly clear: <K, V>(keyspace: Keyspace<K, V>) => Effect.Effect<void, StoreError>
  /** Adds `by` (default 1) to a counter atomically and returns the new count. */
  readonly increment: <K>(
    counter: Counter<K>,
    key: K,
    by?: number,
  ) => Effect.Effect<number, InvalidKey | StoreError>
  /**
   * Synchronous L1-only read: the fresh value, or `undefined` on a miss
   * (including a value only L2 holds). Throws `InvalidKey`. This is the hot
   * path the Promise facade uses before it runs any effect.
   */
  readonly peekUnsafe: <K, V>(keyspace: Keyspace<K, V>, key: K) => V | undefined
  /** A snapshot of the counters (also pushes them into the Effect metrics). */
  readonly stats: () => Stats
  /** Every event the cache reports, from subscription on. */
  readonly events: Stream.Stream<CacheEvent>
  /** Registers a listener for events; returns the function that removes it. */
  readonly onEvent: (listener: (event: CacheEvent) => void) => () => void
}

/**
 * The `Cache` service.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const cache = yield* Cache.Cache
 *   const profile = yield* cache.getOrSet(Profiles, { userId: 42 }, ({ userId }) => loadProfile(userId))
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Cache.layer())))
 * ```
 */
export class Cache extends Context.Service<Cache, Service>()("@strata/core/Cache") {}

const MISS: unique symbol = Symbol("strata/miss")

const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024

/** A value that may be served stale, and until when (monotonic ms). */
interface StaleValue {
  readonly value: unknown
  readonly deadline: number
}

const millisOf = (input: Duration.Input | undefined, what: string, fallback: number): number =>
  input === undefined ? fallback : toMillis(input, what)

/**
 * Builds a cache over an optional shared tier and an optional bus. Loads run
 * in the scope this effect is given, so closing it interrupts them. Bad
 * options (a zero or negative duration, say) are defects raised here.
 */
export const make = Effect.fnUntraced(function* (
  options: Options = {},
  l2: StoreService | undefined = undefined,
  bus: BusService | undefined = undefined,
) {
  const scope = yield* Effect.scope
  const clock = yield* Clock.Clock
  const context = yield* Effect.context<never>()
  const runFork = Effect.runForkWith(context)
  const spans =
    options.spans === undefined || options.spans === "auto"
      ? (yield* Tracer.Tracer) !== Tracer.nativeTracer
      : options.spans
  const traced = <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    span: string,
    attributes: Record<string, string>,
  ) => (spans ? Effect.withSpan(effect, span, { attributes, captureStackTrace: false }) : effect)
  const name = options.name ?? "default"
  const wallNow = () => clock.currentTimeMillisUnsafe()
  const monoNow = monotonicMillis(clock)
  const l1 = options.l1 === false ? undefined : new L1(options.l1 ?? {}, monoNow)
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES
  const flights = SingleFlight.make(scope)
  const guard = new FillGuard(options.unsafeDisableFillGuards === true)
  const casFills = options.unsafeDisableFillGuards !== true

  const l1Options = options.l1 === false ? {} : (options.l1 ?? {})
  const sharedWithoutBus = l2 !== undefined && !l2.capabilities.local && bus === undefined
  const l1MaxTtl = yield* Effect.try(() =>
    millisOf(l1Options.maxTtl, "l1.maxTtl", sharedWithoutBus ? 5_000 : Number.POSITIVE_INFINITY),
  ).pipe(Effect.orDie)
  const busDownMaxTtl = yield* Effect.try(() =>
    millisOf(l1Options.busDownMaxTtl, "l1.busDownMaxTtl", 1_000),
  ).pipe(Effect.orDie)
  const leaseOptions = options.lease === false ? undefined : (options.lease ?? {})
  const leaseTtl = yield* Effect.try(() => millisOf(leaseOptions?.ttl, "lease.ttl", 5_000)).pipe(Effect.orDie)
  const leasePoll = yield* Effect.try(() =>
    millisOf(leaseOptions?.pollInterval, "lease.pollInterval", 50),
  ).pipe(Effect.orDie)
  const defaultSoft = options.loader?.softTimeout
  const defaultHard = options.loader?.hardTimeout
  let busDown = false

  const counts = {
    hitsL1: 0,
    hitsL2: 0,
    misses: 0,
    loads: 0,
    loadFailures: 0,
    coalesced: 0,
    staleServed: 0,
    entriesDropped: 0,
    l2Errors: 0,
    storeErrors: 0,
    busIn: 0,
    busOut: 0,
    gaps: 0,
    gapDrops: 0,
    voidedFills: 0,
    leaseWaits: 0,
  }

  // ---- events -------------------------------------------------------------

  const listeners = new Set<(event: CacheEvent) => void>()
  const emit = (event: CacheEvent) => {
    if (event._tag === "EntryDropped") counts.entriesDropped++
    else if (event._tag === "StaleServed") counts.staleServed++
    else if (event._tag === "StoreFailed") counts.storeErrors++
    for (const listener of listeners) listener(event)
  }

  // ---- L1 -----------------------------------------------------------------

  // Counters are authoritative on the shared tier when there is one, so they bypass L1 there.
  const usesL1 = (keyspace: Keyspace<any, any>) =>
    l1 !== undefined && !(keyspace.kind === "counter" && l2 !== undefined)
  const read = (slot: L1Slot): unknown => (slot.copy === undefined ? slot.value : slot.copy())

  // While the bus has been silent past its bound, invalidations may be waiting unseen: L1 is not trusted.
  const lastHeard = bus?.lastHeard
  const silenceBound = bus?.silenceBoundMillis ?? Number.POSITIVE_INFINITY
  const freshFromL1 = (space: string, key: string): unknown => {
    if (lastHeard !== undefined && performance.now() - lastHeard() > silenceBound) return MISS
    const slot = l1!.sieve.get(space, key)
    if (slot === undefined) return MISS
    const now = l1!.now()
    if (slot.freshUntil <= now || (slot.tagVersions !== undefined && !l1!.tagsCurrent(slot.tagVersions))) {
      // A stale slot stays for fail-safe reads until it is dead; a dead or invalidated one goes now.
      if (slot.expiresAt <= now || slot.tagVersions !== undefined) l1!.alive(space, key)
      return MISS
    }
    counts.hitsL1++
    return slot.copy === undefined ? slot.value : slot.copy()
  }

  /** A fresh decoded copy of the value inside envelope bytes this process wrote or read. */
  const copyOf = (keyspace: Keyspace<any, any>, envelopeBytes: Uint8Array): unknown => {
    if (keyspace.kind === "counter") return Entry.parseCounter(envelopeBytes)
    const envelope = Msgpack.unpack(envelopeBytes) as Array<unknown>
    return Result.getOrThrow(Entry.decodeValue(keyspace, envelope[5]))
  }

  /**
   * Fills L1 with a decoded entry whose times are wall-clock (they become
   * monotonic here), unless the fill's ticket was voided. Returns the value
   * callers get: the frozen value, or a copy when freezing cannot protect it.
   */
  const fill = (
    keyspace: Keyspace<any, any>,
    key: string,
    value: unknown,
    envelopeBytes: Uint8Array,
    freshUntilWall: number,
    staleUntilWall: number,
    tagVersions: Entry.TagVersions | undefined,
    ticket: Ticket | undefined,
  ): unknown => {
    const needsCopy = freezeDeep(value)
    const served = needsCopy ? copyOf(keyspace, envelopeBytes) : value
    if (l1 === undefined || !usesL1(keyspace)) return served
    if (ticket !== undefined && !guard.valid(ticket)) {
      counts.voidedFills++
      return served
    }
    const wall = wallNow()
    const mono = l1.now()
    const cap = busDown ? Math.min(l1MaxTtl, busDownMaxTtl) : l1MaxTtl
    l1.sieve.set(
      keyspace.id,
      key,
      {
        value,
        freshUntil: mono + Math.min(freshUntilWall - wall, cap),
        expiresAt: mono + (staleUntilWall - wall),
        tagVersions,
        copy: needsCopy ? () => copyOf(keyspace, envelopeBytes) : undefined,
        size: envelopeBytes.length + key.length + 64,
        visited: false,
      },
      mono,
    )
    return served
  }

  const dropL1 = (space: string, key: string) => {
    l1?.sieve.delete(space, key)
  }

  /** Drops all of L1 and voids every fill in flight: a gap, a circuit recovery. */
  const dropEverything = (reason: string, connected: boolean) => {
    const dropped = l1?.sieve.size ?? 0
    l1?.sieve.clear()
    l1?.tags.clear()
    guard.voidEverything()
    counts.gaps++
    counts.gapDrops += dropped
    emit({ _tag: "BusGap", reason, connected, dropped })
  }

  // ---- shared tier (L2) ----------------------------------------------------

  const circuitOptions = options.circuitBreaker === false ? undefined : (options.circuitBreaker ?? {})
  const cooldown = yield* Effect.try(() =>
    millisOf(circuitOptions?.cooldown, "circuitBreaker.cooldown", 2_000),
  ).pipe(Effect.orDie)
  let lastCircuit: CircuitState = "closed"
  const circuit =
    l2 === undefined || circuitOptions === undefined
      ? undefined
      : new Circuit(circuitOptions.failures ?? 5, cooldown, monoNow, (state) => {
          emit({ _tag: "CircuitChanged", state })
          // Invalidations may have been missed while the tier was unreachable: reconcile L1.
          if (state === "closed" && lastCircuit !== "closed")
            dropEverything("the shared tier is reachable again", true)
          lastCircuit = state
        })

  const circuitOpen = (operation: string) =>
    new StoreUnavailable({
      store: l2?.name ?? "none",
      operation,
      reason: "circuit-open",
      message: "the shared tier failed repeatedly (circuit open); calls resume after the cooldown",
    })

  /** Every L2 call goes through here: circuit breaker, error counting, a span. */
  const viaL2 = <A>(operation: string, effect: Effect.Effect<A, StoreError>): Effect.Effect<A, StoreError> =>
    Effect.suspend(() => {
      if (circuit !== undefined && !circuit.allow()) return Effect.fail(circuitOpen(operation))
      return effect.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) circuit?.success()
            else if (Cause.hasFails(exit.cause)) {
              counts.l2Errors++
              circuit?.failure()
            } else circuit?.failure()
          }),
        ),
        // No stack trace per span: capturing one costs more than the rest of an L2 hit's bookkeeping.
        (self) => traced(self, `strata.l2.${operation}`, { "strata.cache": name }),
      )
    })

  /** The versions of `tags` now: from L2 (the authority) when there is one, else from L1. */
  const currentTagVersions = (tags: ReadonlyArray<string> | undefined) =>
    Effect.gen(function* () {
      if (tags === undefined || tags.length === 0) return undefined
      const out: Array<string | number> = []
      if (l2 !== undefined) {
        const stored = yield* viaL2("tags", l2.getMany(TAGS_SPACE, tags))
        for (let i = 0; i < tags.length; i++) {
          const bytes = stored[i]
          const version = bytes === undefined ? 0 : (Entry.parseCounter(bytes) ?? 0)
          l1?.learnTag(tags[i]!, version)
          out.push(tags[i]!, version)
        }
      } else {
        for (const tag of tags) out.push(tag, l1?.tags.get(tag) ?? 0)
      }
      return out
    })

  /** What an L2 read found: the fresh value, a stale one, and the key's version for a later fill. */
  interface L2Read {
    readonly fresh: unknown
    readonly stale: StaleValue | undefined
    readonly version: number | undefined
  }
  const noRead = (version: number | undefined): L2Read => ({ fresh: MISS, stale: undefined, version })

  /** Whether an entry's tag versions are still current in L2 (the authority); no I/O for untagged entries. */
  const tagsCurrentInL2 = (
    tagVersions: Entry.TagVersions | undefined,
  ): Effect.Effect<boolean, StoreError> => {
    if (tagVersions === undefined) return Effect.succeed(true)
    const tags: Array<string> = []
    for (let i = 0; i < tagVersions.length; i += 2) tags.push(tagVersions[i] as string)
    return Effect.map(currentTagVersions(tags), (current) => {
      for (let i = 1; i < tagVersions.length; i += 2) if (current![i] !== tagVersions[i]) return false
      return true
    })
  }

  /**
   * Checks bytes read from L2: undecodable ones are dropped from the store and
   * reported; dead entries and entries whose tags were invalidated are misses.
   * The common case (decodes, alive, untagged) is answered synchronously; an
   * effect is returned only when the answer needs I/O (a delete, tag versions).
   */
  const acceptStored = <K, V>(
    keyspace: Keyspace<K, V>,
    storeKey: string,
    bytes: Uint8Array | undefined,
  ): Entry.Entry<V> | undefined | Effect.Effect<Entry.Entry<V> | undefined, StoreError> => {
    if (bytes === undefined) return undefined
    const entry = Entry.decode(keyspace, bytes)
    if (Result.isFailure(entry)) {
      emit({ _tag: "EntryDropped", keyspace: keyspace.id, key: storeKey, tier: "l2", reason: entry.failure })
      return Effect.as(viaL2("delete", l2!.delete(keyspace.id, storeKey)), undefined)
    }
    const e = entry.success
    if (e.staleUntil <= wallNow()) return undefined
    if (e.tagVersions === undefined) return e
    return Effect.map(tagsCurrentInL2(e.tagVersions), (current) => (current ? e : undefined))
  }

  /** Reads a key from L2 and fills L1 from it (if the ticket holds). */
  const readThrough = <K, V>(
    keyspace: Keyspace<K, V>,
    storeKey: string,
    ticket: Ticket,
  ): Effect.Effect<L2Read, StoreError> => {
    if (l2 === undefined) return Effect.succeed(noRead(undefined))
    const versioned = casFills ? l2.versioned : undefined
    const read: Effect.Effect<StoreModule.VersionedValue, StoreError> =
      versioned === undefined
        ? Effect.map(l2.get(keyspace.id, storeKey), (value) => ({ value, version: Number.NaN }))
        : versioned.get(keyspace.id, storeKey)
    return Effect.flatMap(viaL2("get", read), ({ value: bytes, version: read }) => {
      const version = Number.isNaN(read) ? undefined : read
      const finish = (entry: Entry.Entry<V> | undefined): L2Read => {
        if (entry === undefined) return noRead(version)
        const value = fill(
          keyspace,
          storeKey,
          entry.value,
          bytes!,
          entry.freshUntil,
          entry.staleUntil,
          entry.tagVersions,
          ticket,
        )
        const wall = wallNow()
        if (entry.freshUntil > wall) {
          counts.hitsL2++
          return { fresh: value, stale: undefined, version }
        }
        return { fresh: MISS, stale: { value, deadline: monoNow() + (entry.staleUntil - wall) }, version }
      }
      const accepted = acceptStored(keyspace, storeKey, bytes)
      return Effect.isEffect(accepted) ? Effect.map(accepted, finish) : Effect.succeed(finish(accepted))
    })
  }

  /** Runs `f` with a fill ticket for the key, ended however `f` ends. */
  const withTicket = <A, E, R>(
    keyspace: Keyspace<any, any>,
    key: unknown,
    storeKey: string,
    f: (ticket: Ticket) => Effect.Effect<A, E, R>,
  ) =>
    Effect.suspend(() => {
      const ticket = guard.begin(keyspace.id, storeKey, keyspace.tags?.(key))
      return Effect.ensuring(
        f(ticket),
        Effect.sync(() => guard.end(ticket)),
      )
    })

  // ---- bus ----------------------------------------------------------------

  const publish = (message: Message) =>
    bus === undefined
      ? Effect.void
      : bus.publish([message]).pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              counts.busOut++
            }),
          ),
          Effect.catch((error) => Effect.sync(() => emit({ _tag: "BusFailed", error }))),
        )

  const waiters = new Map<string, Set<Deferred.Deferred<void>>>()
  const waiterKey = (space: string, key: string) => `${space}\u0000${key}`
  const wake = (space: string, key: string) => {
    const set = waiters.get(waiterKey(space, key))
    if (set === undefined) return
    for (const deferred of set) Deferred.doneUnsafe(deferred, Exit.void)
  }

  const refresh = (spaces: ReadonlyArray<string> | "all") => {
    if (l2?.refresh === undefined) return
    runFork(
      l2
        .refresh(spaces)
        .pipe(
          Effect.catch((error) =>
            Effect.sync(() => emit({ _tag: "StoreFailed", keyspace: "*", operation: "refresh", error })),
          ),
        ),
    )
  }

  const onBusEvent = (event: BusEvent) => {
    switch (event._tag) {
      case "InvalidateKeys":
        counts.busIn++
        for (const key of event.keys) {
          dropL1(event.space, key)
          guard.voidKey(event.space, key)
        }
        return
      case "InvalidateTag":
        counts.busIn++
        l1?.learnTag(event.tag, event.version)
        guard.voidTag(event.tag)
        return
      case "ClearSpace":
        counts.busIn++
        l1?.sieve.deleteSpace(event.space)
        guard.voidSpace(event.space)
        refresh([event.space])
        return
      case "Filled":
        counts.busIn++
        for (const key of event.keys) wake(event.space, key)
        return
      case "Reset":
        counts.busIn++
        dropEverything(`another process reset: ${event.reason}`, true)
        refresh("all")
        return
      case "Gap":
        busDown = !event.connected
        dropEverything(event.reason, event.connected)
        if (event.connected) refresh("all")
        return
      case "Dropped":
        emit({ _tag: "BusMessageDropped", reason: event.reason })
    }
  }

  if (bus !== undefined) yield* bus.subscribe(onBusEvent)

  // ---- writes -------------------------------------------------------------

  const storeKeyOrFail = <K>(keyspace: Keyspace<K, any>, key: K): string | InvalidKey => {
    try {
      return keyspace.storeKey(key)
    } catch (error) {
      return error as InvalidKey
    }
  }
  const storeKeyOf = <K>(keyspace: Keyspace<K, any>, key: K) =>
    Effect.suspend(() => {
      const storeKey = storeKeyOrFail(keyspace, key)
      return typeof storeKey === "string" ? Effect.succeed(storeKey) : Effect.fail(storeKey)
    })

  const durations = (keyspace: Keyspace<any, any>, options: WriteOptions | undefined) =>
    Effect.try({
      try: () => ({
        ttl: options?.ttl === undefined ? keyspace.ttlMillis : toMillis(options.ttl, `${keyspace.id}: ttl`),
        staleFor:
          options?.staleFor === undefined
            ? keyspace.staleForMillis
            : toMillis(options.staleFor, `${keyspace.id}: staleFor`, true),
      }),
      catch: (error) => error as InvalidDuration,
    })

  /** Encodes an entry for writing, or fails before anything is written. */
  const prepare = <K, V>(keyspace: Keyspace<K, V>, key: K, value: V, ttl: number, staleFor: number) =>
    Effect.gen(function* () {
      const tagVersions = yield* currentTagVersions(keyspace.tags?.(key))
      const createdAt = wallNow()
      const freshUntil = createdAt + ttl
      const staleUntil = freshUntil + staleFor
      const encoded = yield* Effect.fromResult(
        Entry.encode(keyspace, value, createdAt, freshUntil, staleUntil, tagVersions),
      )
      if (encoded.bytes.length > maxEntryBytes) {
        return yield* new EntryTooLarge({
          keyspace: keyspace.id,
          bytes: encoded.bytes.length,
          limit: maxEntryBytes,
        })
      }
      return { bytes: encoded.bytes, freshUntil, staleUntil, tagVersions, ttlMillis: ttl + staleFor }
    })

  type Prepared = Effect.Success<ReturnType<typeof prepare>>

  /** Fills L1 with this process's own write: a decoded copy (never the caller's object). */
  const fillWritten = (
    keyspace: Keyspace<any, any>,
    key: string,
    prepared: Prepared,
    ticket?: Ticket,
  ): unknown =>
    fill(
      keyspace,
      key,
      copyOf(keyspace, prepared.bytes),
      prepared.bytes,
      prepared.freshUntil,
      prepared.staleUntil,
      prepared.tagVersions,
      ticket,
    )

  const set = <K, V>(keyspace: Keyspace<K, V>, key: K, value: V, options?: WriteOptions) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(keyspace, key)
      const { ttl, staleFor } = yield* durations(keyspace, options)
      const prepared = yield* prepare(keyspace, key, value, ttl, staleFor)
      if (l2 !== undefined) {
        yield* viaL2("set", l2.set(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis)).pipe(
          Effect.tapError(() => Effect.sync(() => dropL1(keyspace.id, storeKey))),
        )
      }
      // Fills that began before this write completed may hold the older value.
      guard.voidKey(keyspace.id, storeKey)
      fillWritten(keyspace, storeKey, prepared)
      yield* publish({ _tag: "InvalidateKeys", space: keyspace.id, keys: [storeKey] })
    })

  const del = <K, V>(keyspace: Keyspace<K, V>, key: K) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(keyspace, key)
      if (l2 !== undefined) {
        yield* viaL2("delete", l2.delete(keyspace.id, storeKey)).pipe(
          Effect.ensuring(Effect.sync(() => dropL1(keyspace.id, storeKey))),
        )
      }
      guard.voidKey(keyspace.id, storeKey)
      dropL1(keyspace.id, storeKey)
      yield* publish({ _tag: "InvalidateKeys", space: keyspace.id, keys: [storeKey] })
    })

  const setMany = <K, V>(
    keyspace: Keyspace<K, V>,
    entries: ReadonlyArray<readonly [K, V]>,
    options?: WriteOptions,
  ) =>
    Effect.gen(function* () {
      const { ttl, staleFor } = yield* durations(keyspace, options)
      const prepared: Array<{ storeKey: string; prepared: Prepared }> = []
      for (const [key, value] of entries) {
        const storeKey = yield* storeKeyOf(keyspace, key)
        prepared.push({ storeKey, prepared: yield* prepare(keyspace, key, value, ttl, staleFor) })
      }
      if (prepared.length === 0) return
      if (l2 !== undefined) {
        yield* viaL2(
          "setMany",
          l2.setMany(
            keyspace.id,
            prepared.map((p) => ({
              key: p.storeKey,
              value: p.prepared.bytes,
              ttlMillis: p.prepared.ttlMillis,
            })),
          ),
        ).pipe(
          Effect.tapError(() =>
            Effect.sync(() => {
              for (const p of prepared) dropL1(keyspace.id, p.storeKey)
            }),
          ),
        )
      }
      for (const p of prepared) {
        guard.voidKey(keyspace.id, p.storeKey)
        fillWritten(keyspace, p.storeKey, p.prepared)
      }
      yield* publish({ _tag: "InvalidateKeys", space: keyspace.id, keys: prepared.map((p) => p.storeKey) })
    })

  const invalidateTag = (tag: string) =>
    Effect.gen(function* () {
      let version: number
      if (l2 !== undefined) {
        version = yield* viaL2("invalidateTag", l2.increment(TAGS_SPACE, tag, 1, MAX_DURATION_MS))
      } else {
        version = (l1?.tags.get(tag) ?? 0) + 1
      }
      l1?.learnTag(tag, version)
      guard.voidTag(tag)
      yield* publish({ _tag: "InvalidateTag", tag, version })
    })

  const clear = <K, V>(keyspace: Keyspace<K, V>) =>
    Effect.gen(function* () {
      if (l2 !== undefined) {
        yield* viaL2("clear", l2.clear(keyspace.id)).pipe(
          Effect.ensuring(Effect.sync(() => l1?.sieve.deleteSpace(keyspace.id))),
        )
      }
      l1?.sieve.deleteSpace(keyspace.id)
      guard.voidSpace(keyspace.id)
      yield* publish({ _tag: "ClearSpace", space: keyspace.id })
    })

  const increment = <K>(counter: Counter<K>, key: K, by = 1) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(counter, key)
      if (l2 !== undefined)
        return yield* viaL2("increment", l2.increment(counter.id, storeKey, by, counter.ttlMillis))
      const slot = l1!.alive(counter.id, storeKey)
      const count = (slot === undefined ? 0 : (slot.value as number)) + by
      const mono = l1!.now()
      const expiresAt = slot?.expiresAt ?? mono + counter.ttlMillis
      l1!.sieve.set(
        counter.id,
        storeKey,
        {
          value: count,
          freshUntil: expiresAt,
          expiresAt,
          tagVersions: undefined,
          copy: undefined,
          size: storeKey.length + 72,
          visited: true,
        },
        mono,
      )
      return count
    })

  // ---- reads --------------------------------------------------------------

  // The L1 hit is answered synchronously inside `suspend`: no generator, no extra effects.
  // `get`, `getOrSet` and `peekUnsafe` each inline the same L1 check on purpose: a shared
  // helper returning "value or miss" measured 10-25% slower on W1/W2 (1.16 -> 1.29-1.35x).
  const get = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
  ): Effect.Effect<Option.Option<V>, InvalidKey | StoreError> =>
    Effect.suspend((): Effect.Effect<Option.Option<V>, InvalidKey | StoreError> => {
      const lookup = usesL1(keyspace) ? keyspace.lookupKey(key) : undefined
      if (lookup !== undefined) {
        const hit = freshFromL1(keyspace.id, lookup)
        if (hit !== MISS) return Effect.succeed(Option.some(hit as V))
      }
      const storeKey = storeKeyOrFail(keyspace, key)
      if (typeof storeKey !== "string") return Effect.fail(storeKey)
      if (lookup === undefined && usesL1(keyspace)) {
        const hit = freshFromL1(keyspace.id, storeKey)
        if (hit !== MISS) return Effect.succeed(Option.some(hit as V))
      }
      return withTicket(keyspace, key, storeKey, (ticket) => readThrough(keyspace, storeKey, ticket)).pipe(
        Effect.map((found) => {
          if (found.fresh === MISS) {
            counts.misses++
            return Option.none<V>()
          }
          return Option.some(found.fresh as V)
        }),
      )
    })

  const getMany = <K, V>(keyspace: Keyspace<K, V>, keys: ReadonlyArray<K>) =>
    Effect.gen(function* () {
      const storeKeys: Array<string> = []
      for (const key of keys) storeKeys.push(yield* storeKeyOf(keyspace, key))
      const results: Array<Option.Option<V>> = new Array(keys.length)
      const missing: Array<number> = []
      for (let i = 0; i < storeKeys.length; i++) {
        const hit = usesL1(keyspace) ? freshFromL1(keyspace.id, storeKeys[i]!) : MISS
        if (hit === MISS) missing.push(i)
        else results[i] = Option.some(hit as V)
      }
      if (missing.length > 0 && l2 !== undefined) {
        const tickets = missing.map((i) => guard.begin(keyspace.id, storeKeys[i]!, keyspace.tags?.(keys[i]!)))
        yield* Effect.gen(function* () {
          const stored = yield* viaL2(
            "getMany",
            l2.getMany(
              keyspace.id,
              missing.map((i) => storeKeys[i]!),
            ),
          )
          for (let m = 0; m < missing.length; m++) {
            const i = missing[m]!
            const bytes = stored[m]
            const accepted = acceptStored(keyspace, storeKeys[i]!, bytes)
            const e = Effect.isEffect(accepted) ? yield* accepted : accepted
            if (e === undefined) continue
            const value = fill(
              keyspace,
              storeKeys[i]!,
              e.value,
              bytes!,
              e.freshUntil,
              e.staleUntil,
              e.tagVersions,
              tickets[m],
            )
            if (e.freshUntil > wallNow()) {
              counts.hitsL2++
              results[i] = Option.some(value as V)
            }
          }
        }).pipe(
          Effect.ensuring(
            Effect.sync(() => {
              for (const ticket of tickets) guard.end(ticket)
            }),
          ),
        )
      }
      for (let i = 0; i < results.length; i++) {
        if (results[i] === undefined) {
          counts.misses++
          results[i] = Option.none()
        }
      }
      return results as ReadonlyArray<Option.Option<V>>
    })

  /** L2 errors on the load path are recovered from: reported, then treated as a miss. */
  const recover =
    <A>(keyspace: Keyspace<any, any>, operation: string, fallback: A) =>
    (error: StoreError) =>
      Effect.sync(() => {
        if (!(error._tag === "StoreUnavailable" && error.reason === "circuit-open")) {
          emit({ _tag: "StoreFailed", keyspace: keyspace.id, operation, error })
        }
        return fallback
      })

  /**
   * Waits for another process's load while it holds the lease: woken by its
   * `Filled` message or by polling L2, up to the lease TTL. Returns the value
   * once L2 has it fresh, or MISS when the lease lapsed without a fill.
   */
  const awaitLeaseHolder = <K, V>(keyspace: Keyspace<K, V>, storeKey: string, ticket: Ticket) =>
    Effect.gen(function* () {
      counts.leaseWaits++
      const deadline = monoNow() + leaseTtl
      const key = waiterKey(keyspace.id, storeKey)
      while (monoNow() < deadline) {
        const woken = Deferred.makeUnsafe<void>()
        const set = getOrCreate(waiters, key, () => new Set<Deferred.Deferred<void>>())
        set.add(woken)
        yield* Effect.raceFirst(
          Deferred.await(woken),
          Effect.sleep(Math.min(leasePoll, Math.max(1, deadline - monoNow()))),
        ).pipe(
          Effect.ensuring(
            Effect.sync(() => {
              set.delete(woken)
              if (set.size === 0) waiters.delete(key)
            }),
          ),
        )
        const found = yield* readThrough(keyspace, storeKey, ticket).pipe(
          Effect.catch(recover(keyspace, "get", noRead(undefined))),
        )
        if (found.fresh !== MISS) return found
      }
      return undefined
    })

  /**
   * Takes the lease to load `storeKey`, or waits for the process holding it to
   * fill. The lease is conditional on the version the caller read, so a caller
   * whose miss is already stale (someone filled since) reads the fill instead
   * of loading a second time. Returns the latest read and, when this process
   * should load under a lease, its token; without a token the caller loads
   * unguarded (L2 failing, circuit open, or the holder never filled).
   */
  const leaseOrFill = <K, V>(
    leases: Leases,
    keyspace: Keyspace<K, V>,
    storeKey: string,
    read: L2Read,
    ticket: Ticket,
  ) =>
    Effect.gen(function* () {
      let current = read
      let waited = false
      for (let attempt = 0; attempt < 3; attempt++) {
        const lease = yield* viaL2(
          "lease",
          leases.acquire(keyspace.id, storeKey, leaseTtl, current.version),
        ).pipe(Effect.catch(recover(keyspace, "lease", undefined)))
        if (lease === undefined) break
        if (lease._tag === "Acquired") return { read: current, token: lease.token as string | undefined }
        if (lease._tag === "Held") {
          if (waited || (circuit !== undefined && circuit.state !== "closed")) break
          waited = true
          const filled = yield* awaitLeaseHolder(keyspace, storeKey, ticket)
          if (filled !== undefined) return { read: filled, token: undefined }
        }
        // Changed since the caller read it, or the holder let its lease lapse: read again.
        current = yield* readThrough(keyspace, storeKey, ticket).pipe(
          Effect.catch(recover(keyspace, "get", noRead(undefined))),
        )
        if (current.fresh !== MISS) break
      }
      return { read: current, token: undefined as string | undefined }
    })

  const load = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: LoadOptions | undefined,
  ) =>
    Effect.gen(function* () {
      // Another flight may have filled L1 between the caller's check and this one.
      if (usesL1(keyspace)) {
        const hit = freshFromL1(keyspace.id, storeKey)
        if (hit !== MISS) return hit as V
      }
      const { ttl, staleFor } = yield* durations(keyspace, options)
      const soft = yield* Effect.try({
        try: () =>
          (options?.softTimeout ?? defaultSoft) === undefined
            ? undefined
            : toMillis((options?.softTimeout ?? defaultSoft)!, "softTimeout"),
        catch: (error) => error as InvalidDuration,
      })
      const hard = yield* Effect.try({
        try: () =>
          (options?.hardTimeout ?? defaultHard) === undefined
            ? undefined
            : toMillis((options?.hardTimeout ?? defaultHard)!, "hardTimeout"),
        catch: (error) => error as InvalidDuration,
      })
      const ticket = guard.begin(keyspace.id, storeKey, keyspace.tags?.(key))
      // The ticket ends with this flight, unless the load fiber took it over (it may outlive a soft timeout).
      let ticketOwnedByLoad = false
      return yield* Effect.gen(function* () {
        let l2Read = yield* readThrough(keyspace, storeKey, ticket).pipe(
          Effect.catch(recover(keyspace, "get", noRead(undefined))),
        )
        if (l2Read.fresh !== MISS) return l2Read.fresh as V
        counts.misses++

        // Cross-process stampede protection: one process loads, the others wait for its fill.
        let token: string | undefined
        if (leaseOptions !== undefined && l2?.leases !== undefined) {
          const leased = yield* leaseOrFill(l2.leases, keyspace, storeKey, l2Read, ticket)
          if (leased.read.fresh !== MISS) return leased.read.fresh as V
          l2Read = leased.read
          token = leased.token
        }

        const stale = l2Read.stale ?? staleFromL1(keyspace, storeKey)
        const expectedVersion = l2Read.version
        const heldToken = token

        const runLoader = (Effect.isEffect(loader) ? loader : loader(key)).pipe(
          (self) =>
            hard === undefined
              ? self
              : Effect.timeoutOrElse(self, {
                  duration: hard,
                  orElse: () =>
                    Effect.fail(new Timeout({ operation: `loader of ${keyspace.id}`, millis: hard })),
                }),
          (self) => traced(self, "strata.loader", { "strata.cache": name, "strata.keyspace": keyspace.id }),
        )

        /** Loads, writes L2 (compare-and-set), fills L1 if the ticket holds, announces the fill. */
        const loadAndStore = Effect.gen(function* () {
          counts.loads++
          const loaded = yield* runLoader
          const prepared = yield* prepare(keyspace, key, loaded, ttl, staleFor).pipe(
            Effect.catchTag(["StoreUnavailable", "Timeout"], (error) =>
              // Without current tag versions the entry could not be checked later: serve it, do not store it.
              recover(keyspace, "tagVersions", undefined)(error),
            ),
          )
          if (prepared === undefined) return loaded as unknown
          if (l2 !== undefined) {
            const versioned = casFills ? l2.versioned : undefined
            const write =
              versioned !== undefined && expectedVersion !== undefined
                ? versioned.fill(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis, expectedVersion)
                : Effect.as(l2.set(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis), true)
            const written = yield* viaL2("fill", write).pipe(Effect.catch(recover(keyspace, "fill", false)))
            // Not written: a newer write or delete got there first, or the outcome is unknown. L1 keeps out of it.
            if (!written) return copyOf(keyspace, prepared.bytes)
          }
          const value = fillWritten(keyspace, storeKey, prepared, ticket)
          if (heldToken !== undefined)
            yield* publish({ _tag: "Filled", space: keyspace.id, keys: [storeKey] })
          return value
        }).pipe(
          Effect.ensuring(
            Effect.suspend(() => {
              guard.end(ticket)
              // Released in the background: waiters are woken by the Filled message, not by the release.
              return heldToken === undefined || l2?.leases === undefined
                ? Effect.void
                : viaL2("lease", l2.leases.release(keyspace.id, storeKey, heldToken)).pipe(
                    Effect.catch(recover(keyspace, "lease", false)),
                    Effect.forkIn(scope),
                    Effect.asVoid,
                  )
            }),
          ),
        )

        // The load runs in its own fiber in the cache's scope, so a soft timeout can leave it running.
        const fiber = yield* Effect.forkIn(loadAndStore, scope)
        ticketOwnedByLoad = true
        const waited =
          soft !== undefined && stale !== undefined
            ? yield* Effect.timeoutOption(Fiber.await(fiber), soft)
            : Option.some(yield* Fiber.await(fiber))
        if (Option.isNone(waited)) {
          emit({
            _tag: "StaleServed",
            keyspace: keyspace.id,
            key: storeKey,
            reason: "soft timeout",
            cause: undefined,
          })
          return stale!.value as V
        }
        const exit = waited.value
        if (Exit.isSuccess(exit)) return exit.value as V
        counts.loadFailures++
        if (stale !== undefined && stale.deadline > monoNow() && !Cause.hasInterruptsOnly(exit.cause)) {
          emit({
            _tag: "StaleServed",
            keyspace: keyspace.id,
            key: storeKey,
            reason: "loader failed",
            cause: exit.cause,
          })
          return stale.value as V
        }
        return yield* exit as Exit.Exit<never, E | InvalidValue | EntryTooLarge | Timeout>
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            if (!ticketOwnedByLoad) guard.end(ticket)
          }),
        ),
      )
    })

  const staleFromL1 = (keyspace: Keyspace<any, any>, storeKey: string): StaleValue | undefined => {
    if (!usesL1(keyspace)) return undefined
    const slot = l1!.alive(keyspace.id, storeKey)
    return slot === undefined ? undefined : { value: read(slot), deadline: slot.expiresAt }
  }

  const getOrSet = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    loader: Loader<K, V, E, R>,
    options?: LoadOptions,
  ): Effect.Effect<V, E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | Timeout, R> =>
    Effect.suspend(
      (): Effect.Effect<V, E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | Timeout, R> => {
        const lookup = usesL1(keyspace) ? keyspace.lookupKey(key) : undefined
        if (lookup !== undefined) {
          const hit = freshFromL1(keyspace.id, lookup)
          if (hit !== MISS) return Effect.succeed(hit as V)
        }
        const storeKey = storeKeyOrFail(keyspace, key)
        if (typeof storeKey !== "string") return Effect.fail(storeKey)
        if (lookup === undefined && usesL1(keyspace)) {
          const hit = freshFromL1(keyspace.id, storeKey)
          if (hit !== MISS) return Effect.succeed(hit as V)
        }
        return flights.run(
          `${keyspace.id}:${storeKey}`,
          load(keyspace, key, storeKey, loader, options),
          () => {
            counts.coalesced++
          },
        )
      },
    )

  const peekUnsafe = <K, V>(keyspace: Keyspace<K, V>, key: K): V | undefined => {
    const lookup = usesL1(keyspace) ? keyspace.lookupKey(key) : undefined
    if (lookup !== undefined) {
      const hit = freshFromL1(keyspace.id, lookup)
      if (hit !== MISS) return hit as V
    }
    // A miss: validate the key (throws InvalidKey), then look up what validation produced if the lookup could not.
    const storeKey = keyspace.storeKey(key)
    if (lookup !== undefined || !usesL1(keyspace)) return undefined
    const hit = freshFromL1(keyspace.id, storeKey)
    return hit === MISS ? undefined : (hit as V)
  }

  // ---- observability -----------------------------------------------------

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

  const metric = <I, S>(m: Metric.Metric<I, S>, attributes: Record<string, string> = {}) =>
    Metric.withAttributes(m, { cache: name, ...attributes })
  const metrics = {
    hitsL1: metric(CacheMetrics.hits, { tier: "l1" }),
    hitsL2: metric(CacheMetrics.hits, { tier: "l2" }),
    misses: metric(CacheMetrics.misses),
    staleServed: metric(CacheMetrics.staleServed),
    loads: metric(CacheMetrics.loads),
    loadFailures: metric(CacheMetrics.loadFailures),
    coalesced: metric(CacheMetrics.coalesced),
    busIn: metric(CacheMetrics.busMessages, { direction: "in" }),
    busOut: metric(CacheMetrics.busMessages, { direction: "out" }),
    gaps: metric(CacheMetrics.gaps),
    gapDrops: metric(CacheMetrics.gapDrops),
    l2Errors: metric(CacheMetrics.l2Errors),
  } as const
  const circuitGauge = metric(CacheMetrics.circuitState)
  const l1Gauge = metric(CacheMetrics.l1Entries)
  const pushed: Record<keyof typeof metrics, number> = {
    hitsL1: 0,
    hitsL2: 0,
    misses: 0,
    staleServed: 0,
    loads: 0,
    loadFailures: 0,
    coalesced: 0,
    busIn: 0,
    busOut: 0,
    gaps: 0,
    gapDrops: 0,
    l2Errors: 0,
  }
  /** Pushes counter deltas into the Effect metrics; cheap, and never on the hit path. */
  const syncMetrics = () => {
    for (const k of Object.keys(metrics) as Array<keyof typeof metrics>) {
      const delta = counts[k] - pushed[k]
      if (delta > 0) {
        metrics[k].updateUnsafe(delta, context)
        pushed[k] = counts[k]
      }
    }
    const state = circuit?.state ?? "closed"
    circuitGauge.updateUnsafe(state === "closed" ? 0 : state === "half-open" ? 1 : 2, context)
    l1Gauge.updateUnsafe(l1?.sieve.size ?? 0, context)
  }
  yield* Effect.sleep(options.metricsIntervalMillis ?? 1_000).pipe(
    Effect.andThen(Effect.sync(syncMetrics)),
    Effect.forever,
    Effect.forkIn(scope),
  )

  const stats = (): Stats => {
    syncMetrics()
    return {
      ...counts,
      circuit: circuit?.state ?? "closed",
      l1Entries: l1?.sieve.size ?? 0,
      l1Bytes: l1?.sieve.bytes ?? 0,
      fillsInFlight: guard.size,
      flightsInProgress: flights.size(),
      leaseWaiters: waiters.size,
    }
  }

  yield* Scope.addFinalizer(
    scope,
    Effect.sync(() => {
      syncMetrics()
      l1?.sieve.clear()
    }),
  )

  return Cache.of({
    get,
    getOrSet,
    set,
    delete: del,
    getMany,
    setMany,
    invalidateTag,
    clear,
    increment,
    peekUnsafe,
    stats,
    events,
    onEvent,
  })
})

/** The options of {@link layer}: the cache's options plus the layers of its tiers. */
export interface LayerOptions<E2, R2, E3, R3> extends Options {
  /** The shared tier, such as `RedisStore.layer(...)` or `MemoryStore.layer()`. */
  readonly l2?: Layer.Layer<Store, E2, R2> | undefined
  /** The bus, such as `RedisBus.layer(...)`: invalidations between processes. */
  readonly bus?: Layer.Layer<Bus, E3, R3> | undefined
}

/**
 * A layer providing the `Cache` service: L1 only, or L1 over the store that
 * `l2` provides, kept coherent across processes by the bus `bus` provides.
 *
 * @example
 * ```ts
 * const Embedded = Cache.layer()                                         // L1 only
 * const Tiered = Cache.layer({ l2: RedisStore.layer(redis), bus: RedisBus.layer(redis) })
 * ```
 */
export const layer = <E2 = never, R2 = never, E3 = never, R3 = never>(
  options: LayerOptions<E2, R2, E3, R3> = {},
): Layer.Layer<Cache, E2 | E3, R2 | R3> => {
  const { l2, bus, ...rest } = options
  const cache = Layer.effect(
    Cache,
    Effect.gen(function* () {
      const store = l2 === undefined ? undefined : yield* Store
      const busService = bus === undefined ? undefined : yield* Bus
      return yield* make(rest, store, busService)
    }),
  )
  // The requirements are exactly the given tiers' ones: Store and Bus are provided only when given.
  const withStore: Layer.Layer<Cache, unknown, unknown> =
    l2 === undefined ? cache : cache.pipe(Layer.provide(l2))
  const withBus = bus === undefined ? withStore : withStore.pipe(Layer.provide(bus))
  return withBus as Layer.Layer<Cache, E2 | E3, R2 | R3>
}
