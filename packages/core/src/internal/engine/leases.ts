/**
 * Cross-process stampede protection: before loading a cold key, a process
 * takes the key's lease in the shared tier; the others wait for its fill.
 *
 * The rule that keeps it to one loader call per key while leases hold, for
 * any number of waiters and any number of holder deaths: **a process loads
 * only once it holds the lease itself.** A waiter wakes on the holder's
 * `Filled` message or every `lease.pollInterval`, reads the key, and if it is
 * still cold tries to take the lease again: while someone holds it (the
 * first holder, or whichever waiter took over after the first died) it goes
 * on waiting. The lease is conditional on the version the caller read, so a
 * caller whose miss is already stale (someone filled since) reads the fill
 * instead of loading a second time (`Changed`).
 *
 * A process loads without a lease only when the store cannot give one (it
 * fails, or its circuit is open): availability over the single loader.
 * How long a caller waits is bounded by its soft timeout when it holds a
 * stale value (see `load`).
 */
import { Deferred, Effect } from "effect"
import type { Keyspace } from "../../Keyspace.ts"
import type { Leases } from "../../Store.ts"
import type { Ticket } from "../fillGuard.ts"
import type { BusEvents } from "./busEvents.ts"
import type { Config } from "./config.ts"
import { MISS } from "./l1View.ts"
import { type L2Read, noRead, type SharedTier } from "./sharedTier.ts"
import type { Telemetry } from "./telemetry.ts"

/** What the lease step decided: the latest read, and the lease token when this process should load under it. */
export interface LeaseOutcome {
  readonly read: L2Read
  /** Present: this process holds the lease and loads. Absent: `read` is fresh, or the load goes unguarded. */
  readonly token: string | undefined
}

/** The lease step of a load (see {@link make}). */
export type LeaseStep = <K, V>(
  leases: Leases,
  keyspace: Keyspace<K, V>,
  storeKey: string,
  read: L2Read,
  ticket: Ticket,
) => Effect.Effect<LeaseOutcome>

/** Builds the lease step; `config.lease` must be set. */
export const make = (config: Config, l2: SharedTier, bus: BusEvents, telemetry: Telemetry): LeaseStep => {
  const { ttl, poll } = config.lease!

  /** Sleeps until the holder announces a fill of the key, or one poll interval. */
  const waitOnce = (space: string, key: string) =>
    Effect.suspend(() => {
      const [woken, done] = bus.waitForFill(space, key)
      return Effect.raceFirst(Deferred.await(woken), Effect.sleep(poll)).pipe(
        Effect.ensuring(Effect.sync(done)),
      )
    })

  return (leases, keyspace, storeKey, read, ticket) =>
    Effect.gen(function* () {
      let current = read
      let waited = false
      for (;;) {
        const lease = yield* l2
          .via("lease", leases.acquire(keyspace.id, storeKey, ttl, current.version))
          .pipe(Effect.catch(l2.recover(keyspace, "lease", undefined)))
        if (lease === undefined) return { read: current, token: undefined }
        if (lease._tag === "Acquired") return { read: current, token: lease.token }
        if (lease._tag === "Held") {
          if (!waited) telemetry.counts.leaseWaits++
          waited = true
          yield* waitOnce(keyspace.id, storeKey)
        }
        // The holder filled, the key changed since it was read, or a holder's lease lapsed: read again.
        current = yield* l2
          .readThrough(keyspace, storeKey, ticket)
          .pipe(Effect.catch(l2.recover(keyspace, "get", noRead(undefined))))
        if (current.fresh !== MISS) return { read: current, token: undefined }
      }
    })
}
