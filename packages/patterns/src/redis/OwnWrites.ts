/**
 * The durable writer's view of its own pending writes, behind
 * `WriteBehindStream`'s `get`: for each key, the last write this writer
 * appended (its value and stream entry id) until a flush of it is seen.
 *
 * Pending means appended through this writer and not yet acknowledged by
 * the consumer group, whichever process's flusher took it. Entries are
 * delivered in id order, so the group's state says what was acknowledged:
 * an entry is pending while it is in the group's pending list or above its
 * last delivered id. This process cannot be told when another process
 * flushes one of its writes, so it asks: `get` checks the group for the one
 * entry it is about to answer with (one round trip, exact), and a write
 * reads the group's state at most once per flush interval (in the same
 * script as the append) to drop every write acknowledged since. Expiring
 * writes after a delay instead would be wrong while the source is down
 * (the write is still pending) and keep memory for nothing once flushed.
 * So the view holds at most one write per key, each still in the stream
 * at the last sweep: it is bounded by the stream's `maxLength` plus the
 * keys written in one interval.
 *
 * A write below the stream's first entry is not in the stream: flushed and
 * trimmed, or lost with the stream (Redis restarted without persistence,
 * FLUSHALL, DEL). Either way it will never be flushed again, so it is not
 * pending: `get` does not answer a lost write for ever, and a sweep drops
 * it. When the writer sees its group recreated, the next write sweeps.
 *
 * @since 0.1.0
 */
import { versionOf } from "./StreamEntry.ts"

/** One key's last write through this writer. */
export interface OwnWrite<V> {
  readonly value: V
  readonly entryId: string
  /** `versionOf(entryId)`: comparable as a string in stream order. */
  readonly version: string
}

/** What the consumer group has acknowledged, as versions (see {@link versionOf}). */
export interface GroupState {
  /** The last entry delivered to any consumer: entries above it were never read. */
  readonly lastDelivered: string
  /** The oldest delivered and unacknowledged entry, if any. */
  readonly oldestPending: string | undefined
  /** The stream's first entry; `undefined` when the stream is empty. Entries below it are gone. */
  readonly firstEntry: string | undefined
}

/** Reads the group's state as the scripts return it (stream ids; `''` for no pending entry or an empty stream). */
export const groupState = (lastDelivered: string, oldestPending: string, firstEntry: string): GroupState => ({
  lastDelivered: versionOf(lastDelivered),
  oldestPending: oldestPending === "" ? undefined : versionOf(oldestPending),
  firstEntry: firstEntry === "" ? undefined : versionOf(firstEntry),
})

/** Whether the entry of `version` is gone from the stream (below its first entry, or the stream is empty). */
const gone = (state: GroupState, version: string): boolean =>
  state.firstEntry === undefined || version < state.firstEntry

/**
 * Whether the entry of `version` is surely no longer pending: gone from the
 * stream, or below the oldest pending entry, or, with nothing pending,
 * delivered. Entries between the oldest pending and the last delivered may
 * be acknowledged too; only the pending list itself can tell (`get` asks it).
 */
const acknowledged = (state: GroupState, version: string): boolean =>
  gone(state, version) ||
  (state.oldestPending === undefined ? version <= state.lastDelivered : version < state.oldestPending)

/** This writer's writes not yet seen flushed, by storage key. */
export class OwnWrites<V> {
  private readonly writes = new Map<string, OwnWrite<V>>()
  private nextSweep = 0

  /** @param sweepEveryMillis the least time between two sweeps (the flush interval). */
  constructor(private readonly sweepEveryMillis: number) {}

  /** Keys held: writes of this writer not yet seen flushed. */
  get size(): number {
    return this.writes.size
  }

  /** The write `get` would answer with for `id`, if any. */
  find(id: string): OwnWrite<V> | undefined {
    return this.writes.get(id)
  }

  /** Records an appended write, unless a newer one of the key is held (replies may resume out of order). */
  record(id: string, value: V, entryId: string): void {
    const version = versionOf(entryId)
    const held = this.writes.get(id)
    if (held === undefined || held.version < version) this.writes.set(id, { value, entryId, version })
  }

  /** The entry `entryId` of `id` was flushed and acknowledged (by this process): drop it if still held. */
  forget(id: string, entryId: string): void {
    if (this.writes.get(id)?.entryId === entryId) this.writes.delete(id)
  }

  /** Whether the next append should read the group's state for a sweep. */
  sweepDue(now: number): boolean {
    return this.writes.size > 0 && now >= this.nextSweep
  }

  /** The group was recreated (its stream may have been lost): the next write sweeps, whatever the interval. */
  sweepSoon(): void {
    this.nextSweep = 0
  }

  /** Drops every write the group surely acknowledged, or that is gone from the stream. */
  sweep(state: GroupState, now: number): void {
    this.nextSweep = now + this.sweepEveryMillis
    for (const [id, write] of this.writes) if (acknowledged(state, write.version)) this.writes.delete(id)
  }

  /**
   * `get`'s answer for `write`, held for `id`, given whether its entry is in
   * the group's pending list (`held`) and the group's state: its value while
   * pending (held, or in the stream and not yet delivered), else `undefined`
   * (and it is dropped).
   */
  settle(id: string, write: OwnWrite<V>, held: boolean, state: GroupState): V | undefined {
    if (held || (write.version > state.lastDelivered && !gone(state, write.version))) return write.value
    this.forget(id, write.entryId)
    return undefined
  }
}
