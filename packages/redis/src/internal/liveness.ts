import { Effect, Schedule, type Scope } from "effect"
import { ReplyError } from "ioredis"
import type { Client } from "./connection.ts"

/** Watches a connection for a dead link; see {@link make}. */
export interface Liveness {
  /** Runs one call through the watch: counted while in flight, and any answer from Redis proves the link alive. */
  readonly track: <A>(call: () => Promise<A>) => Promise<A>
  /** Connections replaced because they went silent. */
  readonly replaced: () => number
}

/**
 * Detects a dead link (a black hole: the connection stays "ready", bytes go
 * out, nothing comes back) and replaces the connection, failing what is in
 * flight so no reply is ever matched to the wrong call.
 *
 * ioredis's own `socketTimeout` cannot be used for this: Node checks socket
 * idle timeouts in the timers phase, before it reads what arrived, so an
 * event loop blocked for longer than the timeout (CPU work, a long GC) made
 * it destroy healthy connections, and the reads issued right after failed.
 * Here, as in the bus heartbeat, only *responsive* time counts: each check
 * (every `timeoutMillis / 8`, 10 to 100 ms) credits at most two check
 * intervals of silence while calls are in flight, so a blocked loop is not
 * taken for a dead link. Any answer from Redis, including an error reply,
 * resets the count; a client-side timeout does not (the timed-out call is
 * still waiting for its reply on the link).
 */
export const make = (client: Client, timeoutMillis: number): Effect.Effect<Liveness, never, Scope.Scope> =>
  Effect.gen(function* () {
    let inFlight = 0
    // Calls that timed out on the client are still waiting for their reply on the link.
    let timedOut = 0
    let silent = 0
    let lastCheck = performance.now()
    let replaced = 0
    const answered = () => {
      // Replies come in order: an answer means the link delivered everything sent before it.
      silent = 0
      timedOut = 0
    }
    const track = <A>(call: () => Promise<A>): Promise<A> => {
      inFlight++
      return call().then(
        (value) => {
          inFlight--
          answered()
          return value
        },
        (error: unknown) => {
          inFlight--
          if (error instanceof ReplyError) answered()
          else if (error instanceof Error && error.message === "Command timed out") timedOut++
          throw error
        },
      )
    }
    const check = Math.max(10, Math.min(100, Math.floor(timeoutMillis / 8)))
    const watch = Effect.sync(() => {
      const now = performance.now()
      const elapsed = Math.min(now - lastCheck, 2 * check)
      lastCheck = now
      if (inFlight + timedOut === 0 || client.status !== "ready") {
        silent = 0
        return
      }
      silent += elapsed
      if (silent >= timeoutMillis) {
        silent = 0
        timedOut = 0
        replaced++
        // Reconnects at once; the calls in flight fail with a lost connection.
        client.disconnect(true)
      }
    })
    if (timeoutMillis > 0) yield* watch.pipe(Effect.repeat(Schedule.spaced(check)), Effect.forkScoped)
    return { track, replaced: () => replaced }
  })
