import { Keyspace } from "@strata/core"
import { WriteBehindStream } from "@strata/patterns/redis"
import { Effect, Option, Schema } from "effect"

const LastSeen = Keyspace.make({
  name: "user.last-seen",
  key: Schema.Int,
  value: Schema.Number,
  ttl: "1 day",
})

// #region source
// The source of truth keeps, next to each row, the version of the write that produced it.
const rows = new Map<number, { lastSeen: number; version: string }>()
let ignored = 0

// The idempotency contract: apply a write only if its version is newer than the row's.
// A replay (a batch flushed again after a crash) or an older write that arrives late changes nothing.
// In SQL: UPDATE users SET last_seen = $1, wb_version = $2 WHERE id = $3 AND wb_version < $2
const applyIfNewer = (batch: ReadonlyArray<WriteBehindStream.StreamWrite<number, number>>) =>
  Effect.sync(() => {
    for (const write of batch) {
      const row = rows.get(write.key)
      if (row !== undefined && row.version >= write.version) ignored++
      else rows.set(write.key, { lastSeen: write.value, version: write.version })
    }
  })
// #endregion source

export const main = (url: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        // #region writer
        const writer = yield* WriteBehindStream.make({
          redis: { url },
          keyspace: LastSeen,
          stream: "app:wb:last-seen", // one key: one Cluster slot
          group: "last-seen-flushers", // every process flushing this stream joins it
          flush: applyIfNewer,
          maxBatch: 200,
          flushIntervalMillis: 100,
          claimIdleMillis: 10_000, // entries a dead process held are claimed after 10 s
          maxLength: 1_000_000, // BufferFull past a million entries in play
        })
        // Durable when set returns: the write is in Redis, flushed by whichever process gets it.
        const version = yield* writer.set(42, 1_700_000_060_000)
        // #endregion writer
        // #region read
        // Read your own writes: this writer's pending value first (until a flush of it is
        // acknowledged, by any process), else the source of truth (or the cache in front of it).
        const seen = Option.getOrElse(yield* writer.get(42), () => rows.get(42)?.lastSeen)
        // #endregion read
        // Flushed and acknowledged (the stats count an entry after its XACK).
        while (writer.stats().flushedEntries < 1) yield* Effect.sleep(20)
        // Once flushed, nothing is pending any more: get answers None and holds nothing for the key.
        const afterFlush = yield* writer.get(42)
        // A replay of the same write, as after a crash between a flush and its acknowledgement:
        yield* applyIfNewer([
          { key: 42, id: "42", value: 1_700_000_060_000, entryId: "", version, entryIds: [] },
        ])
        return {
          seen,
          pendingAfterFlush: Option.isSome(afterFlush) || writer.stats().pending > 0,
          lastSeen: rows.get(42)?.lastSeen,
          ignored,
          stats: writer.stats().flushedEntries,
        }
      }),
    ),
  )
