import { Keyspace } from "@strata/core"
import { WriteBehind, type WriteBehindEvent } from "@strata/patterns"
import { Effect, Option, Schema } from "effect"

// #region keyspaces
// View counts per article (merged by sum) and last-seen times per user (the last write wins).
const ArticleViews = Keyspace.counter({ name: "blog.views.pending", key: Schema.String, ttl: "1 day" })
const LastSeen = Keyspace.make({
  name: "user.last-seen",
  key: Schema.Int,
  value: Schema.Number,
  ttl: "1 day",
})
// #endregion keyspaces

/** A stand-in for the database: what reached it, and one outage to recover from. */
const database = { views: new Map<string, number>(), lastSeen: new Map<number, number>(), down: true }

export const main = () =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        // #region writers
        const views = yield* WriteBehind.make({
          keyspace: ArticleViews,
          // One UPDATE ... SET views = views + $n per article, in one transaction.
          flush: (batch) =>
            Effect.sync(() => {
              for (const { key, value } of batch)
                database.views.set(key, (database.views.get(key) ?? 0) + value)
            }),
          maxBatch: 500, // at most 500 articles per flush; 500 pending start one early
          flushIntervalMillis: 1_000, // a view waits at most a second
          maxPending: 50_000, // past it, new articles fail with BufferFull
        })
        const lastSeen = yield* WriteBehind.make({
          keyspace: LastSeen,
          flush: (batch) =>
            database.down
              ? Effect.fail(new Error("database unavailable")) // kept, retried, reported: never lost
              : Effect.sync(() => {
                  for (const { key, value } of batch) database.lastSeen.set(key, value)
                }),
          flushIntervalMillis: 50,
          retryInitialMillis: 20,
          retryMaxMillis: 1_000,
        })
        const failures: Array<WriteBehindEvent> = []
        lastSeen.onEvent((event) => {
          if (event._tag === "FlushFailed") failures.push(event) // log it, alert on it
        })
        // #endregion writers

        // #region writes
        for (let i = 0; i < 1_000; i++) yield* views.increment(i % 3 === 0 ? "/caching" : "/effect")
        yield* lastSeen.set(42, 1_700_000_000_000)
        yield* lastSeen.set(42, 1_700_000_060_000) // the last write per key wins
        // The writer reads its own pending writes: the source does not have them yet.
        const pending = Option.getOrUndefined(yield* lastSeen.get(42))
        yield* Effect.sleep(120) // the first flush fails while the database is down
        database.down = false
        yield* Effect.sleep(200) // the retry lands
        // close() drains what is left, or fails with FlushIncomplete listing it.
        yield* views.close
        yield* lastSeen.close
        // #endregion writes
        return {
          pending,
          views: Object.fromEntries(database.views),
          lastSeen: database.lastSeen.get(42),
          failedFlushes: failures.length > 0,
        }
      }),
    ),
  )
