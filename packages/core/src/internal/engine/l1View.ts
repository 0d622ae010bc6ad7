/**
 * The engine's view of the in-process tier: the hit check (fresh, tags
 * current, and trusted given what the bus can promise), fills guarded by
 * tickets, stale copies for fail-safe reads, and the drops that gaps and
 * invalidations cause.
 *
 * **Trust.** L1 copies are coherent only while the bus delivers
 * invalidations. While it may not (it reported a disconnect, or has been
 * silent past its bound: a black-holed link, a blocked loop), a copy is
 * served only if it was stored within `l1.busDownMaxTtl` (250 ms by
 * default). A write elsewhere that this process did not hear of is
 * therefore served from L1 for at most the silence bound or that cap after
 * it, whichever is longer (ADR 0007). Untrusted copies are kept, not
 * dropped: a loader failure may still serve them stale, and when delivery
 * is confirmed again (a reconnect) L1 is dropped as a whole.
 */
import type { Service as BusService } from "../../Bus.ts"
import * as Entry from "../../Entry.ts"
import { InvalidValue } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import type { FillGuard, Ticket } from "../fillGuard.ts"
import { freezeDeep } from "../freeze.ts"
import { L1, type L1Slot } from "../l1.ts"
import * as Msgpack from "../msgpack.ts"
import type { Config } from "./config.ts"
import type { Telemetry } from "./telemetry.ts"

/** What a lookup returns when L1 has no fresh, trusted copy. */
export const MISS: unique symbol = Symbol("strata/miss")

/** A value that may be served stale, and until when (monotonic ms). */
export interface StaleValue {
  readonly value: unknown
  /** Monotonic ms: served stale strictly before it. */
  readonly deadline: number
  /** Monotonic ms: when it stopped being fresh (for the stale-age histogram). */
  readonly freshUntil: number
}

/** A stored entry's value as a stale value, its wall-clock times (ms) turned into monotonic ones. */
export const staleValueOf = (
  value: unknown,
  entry: { readonly freshUntil: number; readonly staleUntil: number },
  mono: number,
  wall: number,
): StaleValue => ({
  value,
  deadline: mono + (entry.staleUntil - wall),
  freshUntil: mono + (entry.freshUntil - wall),
})

/** Mutable state the bus handling and the L1 view share. */
export interface BusHealth {
  /** The bus reported a disconnect and has not confirmed delivery since. */
  down: boolean
}

/** The L1 operations the other engine parts call. */
export interface L1View {
  readonly tier: L1 | undefined
  /** Whether reads of this keyspace use L1 (counters over a shared tier do not: the store is authoritative). */
  readonly uses: (keyspace: Keyspace<any, any>) => boolean
  /** The fresh, trusted value under the key, or `MISS`; counts the hit. The hot path. */
  readonly fresh: (space: string, key: string) => unknown
  /** How long (ms) the key's L1 copy stays fresh, or `undefined` when there is none. */
  readonly freshFor: (space: string, key: string) => number | undefined
  /** A copy still inside its grace window, for fail-safe reads. */
  readonly stale: (keyspace: Keyspace<any, any>, key: string) => StaleValue | undefined
  /**
   * Stores a decoded entry (wall-clock times; they become monotonic here)
   * unless `ticket` was voided, and returns the value callers get: the frozen
   * value, or a copy when freezing cannot protect it.
   */
  readonly fill: (
    keyspace: Keyspace<any, any>,
    key: string,
    value: unknown,
    envelopeBytes: Uint8Array,
    freshUntilWall: number,
    staleUntilWall: number,
    tagVersions: Entry.TagVersions | undefined,
    ticket: Ticket | undefined,
  ) => unknown
  /**
   * Stores an entry this process wrote, as its envelope bytes: the value is
   * decoded on the first read (and kept, frozen, unless freezing cannot
   * protect it), so a write nobody here reads costs no decode.
   */
  readonly keep: (
    keyspace: Keyspace<any, any>,
    key: string,
    envelopeBytes: Uint8Array,
    freshUntilWall: number,
    staleUntilWall: number,
    tagVersions: Entry.TagVersions | undefined,
  ) => void
  /** A fresh decoded copy of the value inside envelope bytes this process wrote or read. */
  readonly copyOf: (keyspace: Keyspace<any, any>, envelopeBytes: Uint8Array) => unknown
  readonly drop: (space: string, key: string) => void
  readonly dropSpace: (space: string) => void
  /** Drops all of L1 and voids every fill in flight: delivery resumed after a lapse, the tier came back. */
  readonly dropEverything: (reason: string) => void
  /** Stops trusting L1 until delivery is confirmed again: the bus reported a disconnect. */
  readonly distrust: (reason: string) => void
}

/**
 * Builds the L1 view; `monoNow` is the cache's monotonic clock, `wallNow` its
 * wall clock (ms); `liveClock` says `monoNow` is `performance.now()`.
 */
export const make = (
  config: Config,
  monoNow: () => number,
  wallNow: () => number,
  guard: FillGuard,
  telemetry: Telemetry,
  bus: BusService | undefined,
  l2Present: boolean,
  health: BusHealth,
  liveClock: boolean,
): L1View => {
  const { counts, emit } = telemetry
  const l1 = config.l1 === undefined ? undefined : new L1(config.l1, monoNow)
  const maxTtl = config.l1?.maxTtl ?? Number.POSITIVE_INFINITY
  const busDownMaxTtl = config.l1?.busDownMaxTtl ?? 0
  const lastHeard = bus?.lastHeard
  const silenceBound = bus?.silenceBoundMillis ?? Number.POSITIVE_INFINITY

  const uses = (keyspace: Keyspace<any, any>) =>
    l1 !== undefined && !(keyspace.kind === "counter" && l2Present)

  // `get`, `getOrSet` and `peekUnsafe` all call this one closure: keep it free of allocations.
  const fresh = (space: string, key: string): unknown => {
    const slot = l1!.sieve.get(space, key)
    if (slot === undefined) return MISS
    const now = l1!.now()
    if (slot.freshUntil <= now || (slot.tagVersions !== undefined && !l1!.tagsCurrent(slot.tagVersions))) {
      // A stale slot stays for fail-safe reads until it is dead; a dead or invalidated one goes now.
      if (slot.expiresAt <= now || slot.tagVersions !== undefined) l1!.alive(space, key)
      return MISS
    }
    // The bus's clock is `performance.now()`; so is L1's unless a test clock drives it: read it once.
    if (
      (health.down ||
        (lastHeard !== undefined && (liveClock ? now : performance.now()) - lastHeard() > silenceBound)) &&
      now - slot.filledAt > busDownMaxTtl
    ) {
      return MISS
    }
    if (slot.copy === undefined) {
      counts.hitsL1++
      return slot.value
    }
    const value = copied(space, key, slot)
    if (value !== MISS) counts.hitsL1++
    return value
  }

  /**
   * A slot's copy, or `MISS` when its bytes no longer decode (a value schema
   * whose decode refuses what its own encode wrote): the slot is dropped and
   * reported as `EntryDropped`, as unreadable L2 bytes are.
   */
  const copied = (space: string, key: string, slot: L1Slot): unknown => {
    try {
      return slot.copy!()
    } catch (error) {
      l1!.sieve.delete(space, key)
      const reason = error instanceof Error ? error.message : "the value could not be copied"
      emit({ _tag: "EntryDropped", keyspace: space, key, tier: "l1", reason })
      return MISS
    }
  }

  const copyOf = (keyspace: Keyspace<any, any>, envelopeBytes: Uint8Array): unknown => {
    if (keyspace.kind === "counter") return Entry.parseCounter(envelopeBytes)
    const envelope = Msgpack.unpack(envelopeBytes) as Array<unknown>
    const decoded = Entry.decodeValue(keyspace, envelope[5])
    if (decoded._tag === "Failure")
      throw new InvalidValue({
        keyspace: keyspace.id,
        message: `the value schema cannot decode what its own encode wrote: ${decoded.failure}`,
      })
    return decoded.success
  }

  const fill: L1View["fill"] = (
    keyspace,
    key,
    value,
    envelopeBytes,
    freshUntilWall,
    staleUntilWall,
    tagVersions,
    ticket,
  ) => {
    const needsCopy = freezeDeep(value)
    const served = needsCopy ? copyOf(keyspace, envelopeBytes) : value
    if (l1 === undefined || !uses(keyspace)) return served
    if (ticket !== undefined && !guard.valid(ticket)) {
      counts.voidedFills++
      return served
    }
    store(
      keyspace,
      key,
      value,
      needsCopy ? () => copyOf(keyspace, envelopeBytes) : undefined,
      envelopeBytes,
      freshUntilWall,
      staleUntilWall,
      tagVersions,
      ticket,
    )
    return served
  }

  /** Puts a slot in L1 (wall-clock times become monotonic here). */
  const store = (
    keyspace: Keyspace<any, any>,
    key: string,
    value: unknown,
    copy: (() => unknown) | undefined,
    envelopeBytes: Uint8Array,
    freshUntilWall: number,
    staleUntilWall: number,
    tagVersions: Entry.TagVersions | undefined,
    ticket: Ticket | undefined,
  ): L1Slot => {
    const wall = wallNow()
    const mono = l1!.now()
    const slot: L1Slot = {
      value,
      freshUntil: mono + Math.min(freshUntilWall - wall, maxTtl),
      expiresAt: mono + (staleUntilWall - wall),
      tagVersions,
      copy,
      size: envelopeBytes.length + key.length + 64,
      visited: false,
      // A copy read from L2 is as old as the read: a reply that arrived late must not look new.
      filledAt: ticket === undefined ? mono : Math.min(mono, ticket.startedAt),
    }
    l1!.sieve.set(keyspace.id, key, slot, mono)
    return slot
  }

  const keep: L1View["keep"] = (
    keyspace,
    key,
    envelopeBytes,
    freshUntilWall,
    staleUntilWall,
    tagVersions,
  ) => {
    if (l1 === undefined || !uses(keyspace)) return
    const slot = store(
      keyspace,
      key,
      undefined,
      undefined,
      envelopeBytes,
      freshUntilWall,
      staleUntilWall,
      tagVersions,
      undefined,
    )
    slot.copy = () => {
      const value = copyOf(keyspace, envelopeBytes)
      // Frozen for good: later reads share it. Not protectable by freezing: every read decodes its own.
      if (!freezeDeep(value)) {
        slot.value = value
        slot.copy = undefined
      }
      return value
    }
  }

  const stale = (keyspace: Keyspace<any, any>, key: string): StaleValue | undefined => {
    if (!uses(keyspace)) return undefined
    const slot = l1!.alive(keyspace.id, key)
    if (slot === undefined) return undefined
    const value = slot.copy === undefined ? slot.value : copied(keyspace.id, key, slot)
    if (value === MISS) return undefined
    return {
      value,
      deadline: slot.expiresAt,
      freshUntil: slot.freshUntil,
    }
  }

  const dropEverything = (reason: string) => {
    const dropped = l1?.sieve.size ?? 0
    l1?.sieve.clear()
    l1?.tags.clear()
    guard.voidEverything()
    counts.gaps++
    counts.gapDrops += dropped
    emit({ _tag: "BusGap", reason, connected: true, dropped })
  }

  const distrust = (reason: string) => {
    guard.voidEverything()
    health.down = true
    counts.gaps++
    emit({ _tag: "BusGap", reason, connected: false, dropped: 0 })
  }

  return {
    tier: l1,
    uses,
    fresh,
    freshFor: (space, key) => {
      const slot = l1?.sieve.get(space, key)
      return slot === undefined ? undefined : slot.freshUntil - l1!.now()
    },
    stale,
    fill,
    keep,
    copyOf,
    drop: (space, key) => {
      l1?.sieve.delete(space, key)
    },
    dropSpace: (space) => l1?.sieve.deleteSpace(space),
    dropEverything,
    distrust,
  }
}
