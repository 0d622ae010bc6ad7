/**
 * A bounded map of (space, key) → slot with SIEVE eviction, the policy behind
 * the in-process tiers.
 *
 * Why SIEVE and not LRU: an LRU hit must move the entry to the front, a SIEVE
 * hit only sets a `visited` flag, so a hit costs one `Map.get` and one field
 * write; and SIEVE's hit ratio matches or beats LRU on web cache traces.
 *
 * Why a map per space: a lookup hashes only the key inside its space (the
 * space id is a constant string whose hash V8 keeps), not a `space:key`
 * string built per call, which halves the cost of a hit. One linked list
 * through every slot keeps the eviction order global: new slots go in at the
 * head, the hand walks from the tail towards the head and wraps around.
 *
 * Expired slots met by the hand are evicted whatever their flag, so expiry
 * frees room before live entries are evicted.
 */
import { getOrCreate } from "./maps.ts"

export interface Slot {
  visited: boolean
  /** Bytes charged against `maxBytes`. */
  readonly size: number
  /** Monotonic milliseconds from which the slot is dead. */
  readonly expiresAt: number
}

interface Node<S extends Slot> {
  slot: S
  readonly space: string
  readonly key: string
  /** Towards the head (newer). */
  newer: Node<S> | undefined
  /** Towards the tail (older). */
  older: Node<S> | undefined
}

export interface SieveOptions {
  readonly maxEntries: number
  readonly maxBytes: number
}

export class Sieve<S extends Slot> {
  private readonly spaces = new Map<string, Map<string, Node<S>>>()
  private head: Node<S> | undefined
  private tail: Node<S> | undefined
  private hand: Node<S> | undefined
  size = 0
  bytes = 0

  constructor(readonly options: SieveOptions) {}

  /** Reads a slot and marks it visited; expiry is the caller's check. */
  get(space: string, key: string): S | undefined {
    const node = this.spaces.get(space)?.get(key)
    if (node === undefined) return undefined
    node.slot.visited = true
    return node.slot
  }

  /**
   * Stores a slot, replacing any slot under the key (in place, as SIEVE keeps
   * an object where it is), after evicting what must go for it to fit; the
   * slot just written is never the one evicted. Returns false, storing
   * nothing, when the slot alone is larger than `maxBytes`.
   */
  set(space: string, key: string, slot: S, now: number): boolean {
    if (slot.size > this.options.maxBytes) {
      this.delete(space, key)
      return false
    }
    const existing = this.spaces.get(space)?.get(key)
    if (existing !== undefined) {
      this.bytes += slot.size - existing.slot.size
      existing.slot = slot
      if (this.bytes > this.options.maxBytes) this.evict(now, 0, 0, existing)
      return true
    }
    this.evict(now, 1, slot.size)
    // Looked up after evicting: eviction drops a space's map when it empties.
    const keys = getOrCreate(this.spaces, space, () => new Map<string, Node<S>>())
    const node: Node<S> = { slot, space, key, newer: undefined, older: this.head }
    if (this.head !== undefined) this.head.newer = node
    this.head = node
    if (this.tail === undefined) this.tail = node
    keys.set(key, node)
    this.size++
    this.bytes += slot.size
    return true
  }

  delete(space: string, key: string): boolean {
    const node = this.spaces.get(space)?.get(key)
    if (node === undefined) return false
    this.unlink(node)
    return true
  }

  /** Removes every slot of a space. */
  deleteSpace(space: string): void {
    const keys = this.spaces.get(space)
    if (keys === undefined) return
    for (const node of [...keys.values()]) this.unlink(node)
    this.spaces.delete(space)
  }

  clear(): void {
    this.spaces.clear()
    this.head = this.tail = this.hand = undefined
    this.size = 0
    this.bytes = 0
  }

  private unlink(node: Node<S>): void {
    if (this.hand === node) this.hand = node.newer
    if (node.newer === undefined) this.head = node.older
    else node.newer.older = node.older
    if (node.older === undefined) this.tail = node.newer
    else node.older.newer = node.newer
    node.newer = node.older = undefined
    const keys = this.spaces.get(node.space)!
    keys.delete(node.key)
    if (keys.size === 0) this.spaces.delete(node.space)
    this.size--
    this.bytes -= node.slot.size
  }

  /** Evicts until `incoming` more slots of `incomingBytes` more bytes fit, never evicting `keep`. */
  private evict(now: number, incoming: number, incomingBytes: number, keep?: Node<S>): void {
    const maxEntries = this.options.maxEntries - incoming
    const maxBytes = this.options.maxBytes - incomingBytes
    while (this.size > 0 && (this.size > maxEntries || this.bytes > maxBytes)) {
      const node = this.hand ?? this.tail!
      this.hand = node.newer
      if (node === keep) continue
      if (node.slot.visited && node.slot.expiresAt > now) {
        node.slot.visited = false
        continue
      }
      this.unlink(node)
    }
  }
}
