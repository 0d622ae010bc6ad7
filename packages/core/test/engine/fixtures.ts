import { Keyspace } from "@strata/core"
import { Effect, Schema } from "effect"

/** A keyspace of strings with a grace window, for the engine's part tests. */
export const Items = Keyspace.make({
  name: "engine.item",
  key: Schema.String,
  value: Schema.String,
  ttl: "1 minute",
  staleFor: "10 minutes",
})

/** Cache options for caches sharing a lease: short TTL and poll, so tests step the clock a little. */
export const leased = { lease: { ttl: "1 second", pollInterval: "50 millis" } } as const

/** A loader that counts its calls and takes `millis` (default 100 ms). */
export const countingLoader = (millis = 100) => {
  const calls = { loads: 0 }
  const load = (value: string) =>
    Effect.sync(() => {
      calls.loads++
    }).pipe(Effect.andThen(Effect.sleep(millis)), Effect.as(value))
  return { calls, load }
}

/** Lets forked fibers run up to their next wait. */
export const settle = Effect.gen(function* () {
  for (let i = 0; i < 5; i++) yield* Effect.yieldNow
})
