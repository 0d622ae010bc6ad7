import type { TagVersions } from "../Entry.ts"
import { Sieve, type Slot } from "./sieve.ts"

/** An in-process entry: the decoded, frozen value and its monotonic times. */
export interface L1Slot extends Slot {
  /** Mutable with `copy`: an entry kept as bytes is replaced by its decoded value on the first read. */
  value: unknown
  /** Monotonic ms; fresh strictly before it. */
  readonly freshUntil: number
  /** Monotonic ms; may be served stale strictly before it (the `staleUntil` of the entry). */
  readonly expiresAt: number
  readonly tagVersions: TagVersions | undefined
  /** Set when freezing cannot protect the value (each read gets a fresh copy from it), or until a kept entry is first read. */
  copy: (() => unknown) | undefined
  /** Monotonic ms when this copy was stored: while the bus may be missing invalidations, only young copies serve. */
  readonly filledAt: number
}

/** The bounds of the in-process tier. */
export interface L1Options {
  /** Most entries kept; default 10,000. */
  readonly maxEntries?: number | undefined
  /** Most bytes kept, counted as encoded size; default 64 MiB. */
  readonly maxBytes?: number | undefined
}

/** More distinct tags than this and the tier forgets them all (and its entries) rather than grow. */
const MAX_TAGS = 100_000

/**
 * The in-process tier (L1): decoded values kept frozen, so a hit is a `Map`
 * read, a time comparison and, for tagged entries, one `Map` read per tag.
 * It also holds the tag versions this process knows.
 */
export class L1 {
  readonly sieve: Sieve<L1Slot>
  readonly tags = new Map<string, number>()

  constructor(
    options: L1Options,
    readonly now: () => number,
  ) {
    this.sieve = new Sieve({
      maxEntries: options.maxEntries ?? 10_000,
      maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
    })
  }

  tagsCurrent(tagVersions: TagVersions): boolean {
    for (let i = 0; i < tagVersions.length; i += 2) {
      if ((this.tags.get(tagVersions[i] as string) ?? 0) !== tagVersions[i + 1]) return false
    }
    return true
  }

  /** The slot under `key` if it is alive (fresh or stale) and its tags are current; drops it otherwise. */
  alive(space: string, key: string): L1Slot | undefined {
    const slot = this.sieve.get(space, key)
    if (slot === undefined) return undefined
    if (
      slot.expiresAt <= this.now() ||
      (slot.tagVersions !== undefined && !this.tagsCurrent(slot.tagVersions))
    ) {
      this.sieve.delete(space, key)
      return undefined
    }
    return slot
  }

  /** Raises the known version of a tag (versions only grow). */
  learnTag(tag: string, version: number): void {
    if ((this.tags.get(tag) ?? 0) >= version) return
    if (this.tags.size >= MAX_TAGS) {
      this.tags.clear()
      this.sieve.clear()
    }
    this.tags.set(tag, version)
  }
}
