/**
 * A bounded map with SIEVE eviction, the policy behind the in-process tiers.
 *
 * Why SIEVE and not LRU: an LRU hit must move the entry to the front (a
 * `Map` delete plus set), SIEVE only sets a `visited` flag, so a hit costs one
 * `Map.get` and one field write; and SIEVE's hit ratio matches or beats LRU
 * on web cache traces. The queue is the `Map`'s insertion order; the hand is
 * a live iterator walking from oldest to newest, which sees new entries as
 * SIEVE's hand does and wraps around when it reaches the end.
 *
 * Expired entries met by the hand are evicted whatever their flag, so expiry
 * frees room before live entries are evicted.
 */
export interface Slot {
  visited: boolean
  /** Bytes charged against `maxBytes`. */
  readonly size: number
  /** Monotonic milliseconds after which the slot is dead. */
  readonly expiresAt: number
}

export interface SieveOptions {
  readonly maxEntries: number
  readonly maxBytes: number
}

export class Sieve<S extends Slot> {
  readonly map = new Map<string, S>()
  bytes = 0
  private hand: IterableIterator<[string, S]> | undefined
  /** Called with each slot the policy evicts (not with deleted or replaced ones). */
  onEvict: ((key: string, slot: S, expired: boolean) => void) | undefined

  constructor(readonly options: SieveOptions) {}

  get size(): number {
    return this.map.size
  }

  /** Reads a slot and marks it visited; expiry is the caller's check. */
  get(key: string): S | undefined {
    const slot = this.map.get(key)
    if (slot !== undefined) slot.visited = true
    return slot
  }

  /** Reads a slot without marking it visited. */
  peek(key: string): S | undefined {
    return this.map.get(key)
  }

  /**
   * Stores a slot, replacing any slot under the key, then evicts until the
   * bounds hold. Returns false (and stores nothing) when one slot alone is
   * larger than `maxBytes`.
   */
  set(key: string, slot: S, now: number): boolean {
    if (slot.size > this.options.maxBytes) {
      this.delete(key)
      return false
    }
    const previous = this.map.get(key)
    if (previous !== undefined) {
      // Replacing keeps the key's queue position, as SIEVE keeps an object in place.
      this.map.set(key, slot)
      this.bytes += slot.size - previous.size
      // The replaced slot may have grown: make room without evicting the slot just written.
      if (this.bytes > this.options.maxBytes) {
        slot.visited = true
        this.evict(now, 0, 0)
      }
      return true
    }
    // SIEVE makes room before inserting, so a new slot is never evicted by its own insertion.
    this.evict(now, 1, slot.size)
    this.map.set(key, slot)
    this.bytes += slot.size
    return true
  }

  delete(key: string): boolean {
    const slot = this.map.get(key)
    if (slot === undefined) return false
    this.map.delete(key)
    this.bytes -= slot.size
    return true
  }

  clear(): void {
    this.map.clear()
    this.bytes = 0
    this.hand = undefined
  }

  /** Evicts until `incoming` more entries of `incomingBytes` more bytes fit. */
  private evict(now: number, incoming: number, incomingBytes: number): void {
    const maxEntries = this.options.maxEntries - incoming
    const maxBytes = this.options.maxBytes - incomingBytes
    while (this.map.size > 0 && (this.map.size > maxEntries || this.bytes > maxBytes)) {
      let step = this.hand?.next()
      if (step === undefined || step.done) {
        this.hand = this.map.entries()
        step = this.hand.next()
        if (step.done) return
      }
      const [key, slot] = step.value
      const expired = slot.expiresAt <= now
      if (slot.visited && !expired) {
        slot.visited = false
        continue
      }
      this.map.delete(key)
      this.bytes -= slot.size
      this.onEvict?.(key, slot, expired)
    }
  }
}
