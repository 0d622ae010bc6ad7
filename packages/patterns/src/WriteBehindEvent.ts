/**
 * What a write-behind writer reports about its flushes, so that a failing
 * source is seen (logged, counted, alerted on) and never swallowed. Listen
 * with `writer.onEvent(listener)`; the same facts are counted in the Effect
 * metrics of {@link WriteBehindMetrics}.
 *
 * @since 0.1.0
 */
import { Metric } from "effect"

/** A batch reached the source: `entries` keys merging `writes` writes, in `millis` ms. */
export interface Flushed {
  readonly _tag: "Flushed"
  readonly writer: string
  readonly entries: number
  readonly writes: number
  readonly millis: number
}

/**
 * A flush failed (its error, a defect or a throw is `cause`). Its entries
 * are kept and retried after `retryInMillis` ms; `attempt` counts the
 * failures in a row (1 for the first).
 */
export interface FlushFailed {
  readonly _tag: "FlushFailed"
  readonly writer: string
  readonly entries: number
  readonly attempt: number
  readonly retryInMillis: number
  readonly cause: unknown
}

/**
 * Durable writer only: `entries` entries left unacknowledged by a
 * consumer for longer than the claim timeout were taken over by
 * this one (a crashed or stuck process) and will be flushed here.
 */
export interface Claimed {
  readonly _tag: "Claimed"
  readonly writer: string
  readonly entries: number
}

/**
 * The writer's scope closed without `close()`, and `entries` writes could
 * not be flushed before its deadline: they are lost (in-process) or left in
 * the stream for another consumer (durable).
 */
export interface Abandoned {
  readonly _tag: "Abandoned"
  readonly writer: string
  readonly entries: number
  readonly cause: unknown
}

/**
 * Durable writer only: a log entry could not be read (bytes from an
 * incompatible deploy or a hostile writer; `reason` says why). It was
 * acknowledged so that it does not block the log, and never flushed.
 */
export interface EntryUnreadable {
  readonly _tag: "EntryUnreadable"
  readonly writer: string
  readonly entryId: string
  readonly reason: string
}

/**
 * Durable writer only: the consumer `group` was missing from the stream
 * when `operation` ran (`XADD` for a write, `XREADGROUP` for the flusher's
 * read, `XPENDING` for `get`'s check, `XACK`), and was recreated at the
 * stream's start. Its stream key was deleted (Redis restarted without
 * persistence, `FLUSHALL`, `DEL`) or the group destroyed: entries written
 * since are flushed as usual, entries still in the stream are delivered
 * again (the flush's version check makes that harmless), and writes lost
 * with the stream are gone. Alert on it: it means Redis lost data.
 */
export interface GroupRecreated {
  readonly _tag: "GroupRecreated"
  readonly writer: string
  readonly group: string
  readonly operation: string
}

/** Every event a write-behind writer reports. */
export type WriteBehindEvent = Flushed | FlushFailed | Claimed | Abandoned | EntryUnreadable | GroupRecreated

/** The Effect metrics of write-behind writers, labelled with `writer` (the writer's name). */
export const WriteBehindMetrics = {
  /** Entries (keys) written to the source. */
  flushedEntries: Metric.counter("strata_writebehind_flushed_entries", {
    description: "Write-behind entries flushed to the source",
    incremental: true,
  }),
  /** Flush calls that failed (each is retried). */
  flushFailures: Metric.counter("strata_writebehind_flush_failures", {
    description: "Write-behind flushes that failed and will be retried",
    incremental: true,
  }),
  /** Durable writer: entries taken over from another consumer. */
  claimedEntries: Metric.counter("strata_writebehind_claimed_entries", {
    description: "Durable write-behind entries claimed from an idle consumer",
    incremental: true,
  }),
  /** Durable writer: consumer groups found missing (stream lost or group destroyed) and recreated. */
  groupRecreations: Metric.counter("strata_writebehind_group_recreations", {
    description: "Durable write-behind consumer groups found missing and recreated",
    incremental: true,
  }),
} as const

/** A set of listeners; a listener that throws does not stop the others or the flusher. */
export const listeners = <A>() => {
  const set = new Set<(event: A) => void>()
  return {
    emit: (event: A) => {
      for (const listener of set) {
        try {
          listener(event)
        } catch {
          // A listener's own bug must not stop the flush loop; the event was delivered to it.
        }
      }
    },
    add: (listener: (event: A) => void) => {
      set.add(listener)
      return () => {
        set.delete(listener)
      }
    },
  }
}
