/**
 * The pending writes of a write-behind writer, as plain data: what waits to
 * be flushed, what a flush is carrying now, and how a failed flush gives its
 * entries back. Synchronous and free of I/O, so its rules (last write per key
 * wins, counters merge by sum, a failed flush loses nothing) are checked
 * directly by property tests.
 *
 * @since 0.1.0
 */

/** One key's pending write, as the flush function receives it. */
export interface PendingWrite<K, V> {
  /** The key as the writer was given it. */
  readonly key: K
  /** The keyspace's canonical storage key of `key`: one per key, stable across processes. */
  readonly id: string
  /**
   * For `set`: the last value written. For `increment`: the sum of the
   * increments since the last successful flush of this key.
   */
  readonly value: V
  /** How many writes (`set` or `increment` calls) this entry merges, ≥ 1. */
  readonly writes: number
}

/** How a newer write to a key combines with a pending one: `"last"` (the newer wins) or `"sum"` (counters). */
export type Merge = "last" | "sum"

/**
 * The buffer. `pending` holds writes not yet handed to a flush, oldest key
 * first; `inFlight` holds the batch a flush is carrying. A key may be in both
 * (a newer write arrived during the flush); {@link Buffer.read} then sees the
 * newer one.
 */
export class Buffer<K, V> {
  private readonly pending = new Map<string, PendingWrite<K, V>>()
  private readonly inFlight = new Map<string, PendingWrite<K, V>>()

  constructor(readonly merge: Merge) {}

  /** Keys waiting for a flush (not counting the batch in flight). */
  get pendingKeys(): number {
    return this.pending.size
  }

  /** Keys in the batch a flush is carrying now. */
  get inFlightKeys(): number {
    return this.inFlight.size
  }

  /** Whether `id` is buffered (pending or in flight): writing it again does not take a new slot. */
  has(id: string): boolean {
    return this.pending.has(id) || this.inFlight.has(id)
  }

  /** Distinct keys held (pending or in flight, counted once). */
  get size(): number {
    let both = 0
    for (const id of this.inFlight.keys()) if (this.pending.has(id)) both++
    return this.pending.size + this.inFlight.size - both
  }

  /** Records a write of `value` under `id`: merged into the pending write of the key, if any. */
  write(key: K, id: string, value: V): PendingWrite<K, V> {
    const previous = this.pending.get(id)
    const next: PendingWrite<K, V> =
      previous === undefined
        ? { key, id, value, writes: 1 }
        : { key, id, value: this.combine(previous.value, value), writes: previous.writes + 1 }
    this.pending.set(id, next)
    return next
  }

  /**
   * What a reader of this process should see for `id`: the newest pending
   * value; for counters, the sum of everything not yet flushed (pending and
   * in flight). `undefined` when nothing is buffered.
   */
  read(id: string): V | undefined {
    const pending = this.pending.get(id)
    const flying = this.inFlight.get(id)
    if (this.merge === "last") return (pending ?? flying)?.value
    if (pending === undefined) return flying?.value
    return flying === undefined ? pending.value : this.combine(flying.value, pending.value)
  }

  /**
   * Moves up to `max` of the oldest pending keys into flight and returns
   * them. Only one batch may be in flight: call {@link settle} or
   * {@link giveBack} before taking the next.
   */
  take(max: number): ReadonlyArray<PendingWrite<K, V>> {
    const batch: Array<PendingWrite<K, V>> = []
    for (const [id, write] of this.pending) {
      if (batch.length >= max) break
      batch.push(write)
      this.inFlight.set(id, write)
    }
    for (const write of batch) this.pending.delete(write.id)
    return batch
  }

  /** The batch in flight was written to the source: it leaves the buffer. */
  settle(): void {
    this.inFlight.clear()
  }

  /**
   * The batch in flight failed: its entries go back to pending, under any
   * newer write of the same key (`"last"`: the newer value stays; `"sum"`:
   * both increments count). Nothing is lost. Returned entries go first in
   * line again.
   */
  giveBack(): void {
    const merged = new Map<string, PendingWrite<K, V>>()
    for (const [id, failed] of this.inFlight) {
      const newer = this.pending.get(id)
      merged.set(
        id,
        newer === undefined
          ? failed
          : {
              key: newer.key,
              id,
              value: this.merge === "last" ? newer.value : this.combine(failed.value, newer.value),
              writes: failed.writes + newer.writes,
            },
      )
    }
    for (const [id, write] of this.pending) if (!merged.has(id)) merged.set(id, write)
    this.pending.clear()
    for (const [id, write] of merged) this.pending.set(id, write)
    this.inFlight.clear()
  }

  /** Everything buffered, in flight first (after a {@link giveBack}, simply all pending). */
  entries(): ReadonlyArray<PendingWrite<K, V>> {
    return [...this.inFlight.values(), ...this.pending.values()]
  }

  private combine(older: V, newer: V): V {
    return this.merge === "last" ? newer : (((older as number) + (newer as number)) as V)
  }
}
