/**
 * Guards L1 against stale fills. Every read that may fill L1 (an L2 read or a
 * load) takes a ticket before it starts; every invalidation this process
 * applies (its own write, delete, tag or clear, a bus message, a gap) voids
 * the tickets of the fills it concerns. A fill whose ticket was voided is not
 * stored: its value was read before the invalidation and may be older.
 *
 * Why tickets and not per-key counters: only fills in flight need tracking,
 * so memory is bounded by concurrency, not by the number of keys ever
 * invalidated.
 */
import { getOrCreate } from "./maps.ts"

export interface Ticket {
  readonly space: string
  readonly key: string
  readonly tags: ReadonlyArray<string> | undefined
  voided: boolean
}

export class FillGuard {
  private readonly bySpace = new Map<string, Map<string, Set<Ticket>>>()
  private readonly byTag = new Map<string, Set<Ticket>>()
  /** For tests that show the guard is needed: tickets are never voided. */
  constructor(private readonly disabled = false) {}

  begin(space: string, key: string, tags: ReadonlyArray<string> | undefined): Ticket {
    const ticket: Ticket = { space, key, tags, voided: false }
    getOrCreate(
      getOrCreate(this.bySpace, space, () => new Map()),
      key,
      () => new Set<Ticket>(),
    ).add(ticket)
    if (tags !== undefined) {
      for (const tag of tags) getOrCreate(this.byTag, tag, () => new Set<Ticket>()).add(ticket)
    }
    return ticket
  }

  /** Ends a fill; returns whether it may still be stored. */
  end(ticket: Ticket): boolean {
    const keys = this.bySpace.get(ticket.space)
    const tickets = keys?.get(ticket.key)
    tickets?.delete(ticket)
    if (tickets?.size === 0) keys!.delete(ticket.key)
    if (keys?.size === 0) this.bySpace.delete(ticket.space)
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
    this.voidAll(this.bySpace.get(space)?.get(key))
  }

  voidTag(tag: string): void {
    this.voidAll(this.byTag.get(tag))
  }

  voidSpace(space: string): void {
    for (const tickets of this.bySpace.get(space)?.values() ?? []) this.voidAll(tickets)
  }

  voidEverything(): void {
    for (const keys of this.bySpace.values()) for (const tickets of keys.values()) this.voidAll(tickets)
  }

  /** Fills in flight: 0 at quiescence. */
  get size(): number {
    let n = 0
    for (const keys of this.bySpace.values()) for (const tickets of keys.values()) n += tickets.size
    return n
  }

  private voidAll(tickets: Iterable<Ticket> | undefined): void {
    if (this.disabled || tickets === undefined) return
    for (const ticket of tickets) ticket.voided = true
  }
}
