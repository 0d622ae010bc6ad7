/**
 * Write-behind for view counts: a product page view adds 1 to an in-process
 * buffer, and a timer flushes the buffer to the database in one statement,
 * so thousands of views cost one write per flush instead of one each.
 * Counts buffered when the process dies are lost: fine for view counts,
 * not for orders.
 */
import * as Catalog from "../Catalog.ts"
import type { Database } from "../db/Database.ts"
import type { Meter } from "../Meters.ts"

/** View counts waiting to be written. */
export class ViewBuffer {
  private pending = new Map<number, number>()
  private timer: ReturnType<typeof setInterval> | undefined
  private flushing: Promise<void> = Promise.resolve()
  /** Flushes that wrote something, and views written. */
  flushes = 0
  flushed = 0

  constructor(
    private readonly db: Database,
    private readonly meter: Meter,
    intervalMillis: number,
  ) {
    this.timer = setInterval(() => {
      void this.flush().catch(() => undefined)
    }, intervalMillis)
    this.timer.unref()
  }

  /** Counts one view of `productId`. */
  add(productId: number): void {
    this.pending.set(productId, (this.pending.get(productId) ?? 0) + 1)
  }

  /** Views of `productId` not written yet. */
  pendingOf(productId: number): number {
    return this.pending.get(productId) ?? 0
  }

  /** Writes the buffered counts now (after any flush in progress); counts are put back if the write fails. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return
      const batch = this.pending
      this.pending = new Map()
      try {
        await Catalog.addViews(this.db, this.meter, [...batch])
        this.flushes++
        for (const n of batch.values()) this.flushed += n
      } catch (error) {
        for (const [id, n] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + n)
        throw error
      }
    })
    return this.flushing
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }
}
