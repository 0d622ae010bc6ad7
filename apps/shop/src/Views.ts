/**
 * View counts written behind, through `@strata/patterns`' `WriteBehind`
 * (`createWriteBehind` on a counter keyspace): a product page view adds 1
 * in process, and the writer flushes the sums to the database in one
 * `INSERT ... ON CONFLICT` per batch, every `flushMillis` (and at once when
 * 1,000 products are pending), so thousands of views cost one statement.
 * Counts buffered when the process dies are lost: fine for view counts,
 * not for orders.
 *
 * The writer has no "flush now" call; `flush()` (the admin route
 * `POST /api/views/flush`) puts a fresh writer in place and closes the old
 * one, whose `close` drains what it holds.
 */
import {
  BufferFull,
  createWriteBehind,
  FlushIncomplete,
  type WriteBehind,
  type WriteBehindClient,
} from "@strata/patterns"
import * as Catalog from "./Catalog.ts"
import type { Database } from "./db/Database.ts"
import { PendingViews } from "./Keyspaces.ts"
import type { Meter } from "./Meters.ts"

/** The view-count writer of the shop. */
export interface Views {
  /** Counts one view of `productId` (dropped, and counted in `dropped`, when the buffer is full). */
  readonly add: (productId: number) => Promise<void>
  /** Views of `productId` not written yet. */
  readonly pendingOf: (productId: number) => Promise<number>
  /** Writes what is buffered now (after any flush in progress). */
  readonly flush: () => Promise<void>
  /** Flushes that wrote something, views written, and views dropped on a full buffer. */
  readonly counts: () => { readonly flushes: number; readonly flushed: number; readonly dropped: number }
  /** Drains and stops; rejects with `FlushIncomplete` when the database keeps failing. */
  readonly close: () => Promise<void>
}

/** Starts the writer; its statements count on `meter`. */
export const start = async (db: Database, meter: Meter, flushMillis: number): Promise<Views> => {
  const counts = { flushes: 0, flushed: 0, dropped: 0 }
  const open = () =>
    createWriteBehind({
      keyspace: PendingViews,
      flush: async (batch) => {
        await Catalog.addViews(
          db,
          meter,
          batch.map(({ key, value }) => [key, value] as const),
        )
        counts.flushes++
        for (const { value } of batch) counts.flushed += value
      },
      flushIntervalMillis: flushMillis,
      maxBatch: 1_000,
      maxPending: 20_000,
    })
  let writer: WriteBehindClient<number, number> = await open()
  /** The writer being drained by a flush, whose pending views still count. */
  let draining: WriteBehindClient<number, number> | undefined
  let flushing: Promise<void> = Promise.resolve()
  return {
    add: async (productId) => {
      try {
        await writer.increment(productId)
      } catch (error) {
        if (!(error instanceof BufferFull)) throw error
        counts.dropped++
      }
    },
    pendingOf: async (productId) =>
      ((await draining?.get(productId)) ?? 0) + ((await writer.get(productId)) ?? 0),
    flush: () => {
      flushing = flushing
        .catch(() => undefined)
        .then(async () => {
          const next = await open()
          draining = writer
          writer = next
          try {
            await draining.close()
          } catch (error) {
            // What the old writer could not write goes to the new one, for its next flush.
            if (error instanceof FlushIncomplete)
              for (const entry of error.entries as ReadonlyArray<WriteBehind.PendingWrite<number, number>>)
                await writer.increment(entry.key, entry.value)
            throw error
          } finally {
            draining = undefined
          }
        })
      return flushing
    },
    counts: () => ({ ...counts }),
    close: async () => {
      await flushing.catch(() => undefined)
      await writer.close()
    },
  }
}
