/**
 * Guards L1 against stale fills. Every read that may fill L1 (an L2 read or a
 * load) takes a ticket before it starts; every invalidation this process
 * applies (its own write, delete, tag or clear, a bus message, a gap) voids
 * the tickets of the fills it concerns. A fill whose ticket was voided is not
 * stored: its value was read before the invalidation and may be older.
 *
 * Why tickets and not per-key counters: only fills in flight need tracking,
 * so memory is bounded by concurrency, not by the number of keys ever
 * invalidated. Most keys have one fill in flight at a time, so a key holds
 * its ticket directly and a set only when there are several (an L2 hit takes
 * and ends a ticket: no allocation beyond the ticket itself).
 */
import { getOrCreate } from "./maps.ts"

export interface Ticket {
  readonly space: string
  readonly key: string
  readonly tags: ReadonlyArray<string> | undefined
  /**
   * When the fill began (the guard's clock, ms): what it stores was read no
   * earlier, so that is the copy's age while the bus cannot vouch for it.
   */
  readonly startedAt: number
  voided: boolean
}

type Held = Ticket | Set<Ticket>

export class FillGuard {
  /** Fills in flight by space and key; a space's map stays once made (spaces are few). */
  private readonly bySpace = new Map<string, Map<string, Held>>()
  private readonly byTag = new Map<string, Set<Ticket>>()
  private inFlight = 0
  /** For tests that show the guard is needed: tickets are never voided. */
  constructor(
    private readonly disabled = false,
    private readonly now: () => number = () => performance.now(),
  ) {}

  begin(space: string, key: string, tags: ReadonlyArray<string> | undefined): Ticket {
    const ticket: Ticket = { space, key, tags, startedAt: this.now(), voided: false }
    const keys = getOrCreate(this.bySpace, space, () => new Map<string, Held>())
    const held = keys.get(key)
    if (held === undefined) keys.set(key, ticket)
    else if (held instanceof Set) held.add(ticket)
    else keys.set(key, new Set([held, ticket]))
    if (tags !== undefined) {
      for (const tag of tags) getOrCreate(this.byTag, tag, () => new Set<Ticket>()).add(ticket)
    }
    this.inFlight++
    return ticket
  }

  /** Ends a fill; returns whether it may still be stored. */
  end(ticket: Ticket): boolean {
    const keys = this.bySpace.get(ticket.space)
    const held = keys?.get(ticket.key)
    if (held === ticket) {
      keys!.delete(ticket.key)
      this.inFlight--
    } else if (held instanceof Set && held.delete(ticket)) {
      if (held.size === 0) keys!.delete(ticket.key)
      this.inFlight--
    }
    if (ticket.tags !== undefined) {
      for (const tag of ticket.tags) {
        const tagged = this.byTag.get(tag)
        tagged?.delete(ticket)
        if (tagged?.size === 0) this.byTag.delete(tag)
      }
    }
    return !ticket.voided
  }

  /** Whether a fill may still be stored, without ending it. */
  valid(ticket: Ticket): boolean {
    return !ticket.voided
  }

  voidKey(space: string, key: string): void {
    const held = this.bySpace.get(space)?.get(key)
    if (held !== undefined) this.voidHeld(held)
  }

  voidTag(tag: string): void {
    const tagged = this.byTag.get(tag)
    if (tagged !== undefined) for (const ticket of tagged) this.voidOne(ticket)
  }

  voidSpace(space: string): void {
    for (const held of this.bySpace.get(space)?.values() ?? []) this.voidHeld(held)
  }

  voidEverything(): void {
    for (const keys of this.bySpace.values()) for (const held of keys.values()) this.voidHeld(held)
  }

  /** Fills in flight: 0 at quiescence. */
  get size(): number {
    return this.inFlight
  }

  private voidHeld(held: Held): void {
    if (held instanceof Set) for (const ticket of held) this.voidOne(ticket)
    else this.voidOne(held)
  }

  private voidOne(ticket: Ticket): void {
    if (!this.disabled) ticket.voided = true
  }
}
