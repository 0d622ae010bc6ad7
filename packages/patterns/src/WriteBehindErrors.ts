/**
 * The typed failures of write-behind writers (in-process and on Redis
 * Streams). Bad options and bad numbers are core's `InvalidArgument`; bad
 * keys and values are core's `InvalidKey` and `InvalidValue`.
 *
 * @since 0.1.0
 */
import { Cause, Schema } from "effect"

/**
 * A write of a key that was not already buffered found the buffer full
 * (`limit` keys pending, or `limit` entries in the durable log). Nothing was
 * buffered. Writes to keys already pending still succeed (they merge and
 * take no new slot). The caller chooses: write to the source directly, drop
 * the write (a view count), or retry later. Strata does not block the
 * caller instead: a request handler should not wait behind a slow source.
 */
export class BufferFull extends Schema.TaggedError<BufferFull>()("BufferFull", {
  writer: Schema.String,
  limit: Schema.Number,
}) {
  override get message(): string {
    return `write-behind "${this.writer}" holds ${this.limit} pending entries, its limit; the write was not buffered`
  }
}

/** The writer was closed: writes after `close()` are refused and nothing is buffered. */
export class WriteBehindClosed extends Schema.TaggedError<WriteBehindClosed>()("WriteBehindClosed", {
  writer: Schema.String,
}) {
  override get message(): string {
    return `write-behind "${this.writer}" is closed; nothing was buffered`
  }
}

/**
 * `close()` could not flush everything before its deadline (the source kept
 * failing). In process, `entries` are the writes that never reached the
 * source (each a `PendingWrite`: key, id, value, writes), so the caller can
 * log them or write them elsewhere; for the durable writer they are the
 * stream ids of its unflushed batch, which stays in the stream for another
 * flusher. `remaining` is their count; `cause` the last failure, if any.
 */
export class FlushIncomplete extends Schema.TaggedError<FlushIncomplete>()("FlushIncomplete", {
  writer: Schema.String,
  remaining: Schema.Number,
  entries: Schema.Array(Schema.Unknown),
  cause: Schema.optional(Schema.Defect()),
}) {
  override get message(): string {
    // The durable writer may not even reach its stream (Redis down): then it cannot list what is left.
    if (this.remaining === 0 && this.cause !== undefined)
      return `write-behind "${this.writer}" closed before its flush finished: it could not reach its source or its stream (${describe(this.cause)}); durable entries stay in the stream for the next flusher`
    return `write-behind "${this.writer}" closed with ${this.remaining} entries not flushed`
  }
}

/** A failure in a line of text; an Effect `Cause` (no string form of its own) by its first error. */
const describe = (cause: unknown): string => {
  const error = Cause.isCause(cause) ? Cause.squash(cause) : cause
  if (error instanceof Error) return error.message
  try {
    return String(error)
  } catch {
    return Object.prototype.toString.call(error)
  }
}
