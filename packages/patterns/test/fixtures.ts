import { Keyspace } from "@strata/core"
import { Effect, Schema } from "effect"

/** Last-seen times by user id: an entry keyspace for write-behind tests. */
export const LastSeen = Keyspace.make({
  name: "test.last-seen",
  key: Schema.Int,
  value: Schema.Number,
  ttl: "1 hour",
})

/** View counts by page: a counter keyspace for write-behind tests. */
export const Views = Keyspace.counter({ name: "test.views", key: Schema.String, ttl: "1 hour" })

/** Lets forked fibers run up to their next wait. */
export const settle = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
})
