/**
 * The fill: how a loaded value is stored. In L2 as a compare-and-set on the
 * version read before loading (with the lease released in the same step
 * where the store can), then in L1 if the fill's ticket still holds, then
 * announced to the processes waiting on the lease. The entry carries the tag
 * versions read before the loader ran, and a fill whose ticket was voided
 * meanwhile stores nothing (ADR 0006).
 */
import { Effect } from "effect"
import type * as Entry from "../../Entry.ts"
import type { InvalidKey, StoreError } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import type { FillGuard, Ticket } from "../fillGuard.ts"
import type { BusEvents } from "./busEvents.ts"
import type { Config } from "./config.ts"
import { tagsOf } from "./inputs.ts"
import type { L1View } from "./l1View.ts"
import type { SharedTier } from "./sharedTier.ts"
import type { Writes } from "./writes.ts"

/** The fill's steps (see {@link make}). */
export type Fill = ReturnType<typeof make>

/** Builds the fill. */
export const make = (
  config: Config,
  l1: L1View,
  l2: SharedTier,
  bus: BusEvents,
  writes: Writes,
  guard: FillGuard,
) => {
  const store = l2.store

  /**
   * The tag versions of `key` read before its loader runs: the entry a load
   * stores carries these, so a tag invalidated while the loader ran leaves
   * it outdated at once, in every process (its tag check fails on read).
   * `undefined` when they cannot be read: the load's value is then served,
   * not stored.
   */
  const tagsBefore = <K>(keyspace: Keyspace<K, any>, key: K) =>
    Effect.gen(function* () {
      const tags = yield* Effect.try({ try: () => tagsOf(keyspace, key), catch: (e) => e as InvalidKey })
      return yield* Effect.map(l2.tagVersions(tags), (tagVersions) => ({ tagVersions })).pipe(
        Effect.catchTag(["StoreUnavailable", "Timeout"], l2.recover(keyspace, "tagVersions", undefined)),
      )
    })

  /**
   * Stores a loaded value: in L2 as a compare-and-set on the version read
   * before loading (so it never lands over a newer write or a delete), then
   * in L1 if the fill's ticket still holds; with a lease `token`, announces
   * the fill to the waiters. Nothing is stored when the ticket was voided
   * meanwhile (a delete, tag invalidation or clear of the key, here or
   * announced by the bus, or a gap): the callers get the value, the tiers
   * keep out of it. Returns the value callers get.
   */
  const storeLoaded = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loaded: V,
    ttl: number,
    staleFor: number,
    version: number | undefined,
    ticket: Ticket,
    lease: { token: string | undefined },
    tags: { readonly tagVersions: Entry.TagVersions | undefined } | undefined,
  ) =>
    Effect.gen(function* () {
      // Without the tag versions read before loading the entry could not be checked later: serve it only.
      if (tags === undefined || !guard.valid(ticket)) return loaded as unknown
      const prepared = yield* writes.prepare(keyspace, key, loaded, ttl, staleFor, tags)
      // Announce the fill to lease waiters: with fillAndRelease only when someone waited (the store knows).
      let announce = lease.token !== undefined
      if (store !== undefined) {
        const versioned = config.fillGuards ? store.versioned : undefined
        const fillAndRelease = lease.token === undefined ? undefined : store.leases?.fillAndRelease
        const write: Effect.Effect<boolean, StoreError> =
          versioned === undefined || version === undefined
            ? Effect.as(store.set(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis), true)
            : fillAndRelease !== undefined
              ? Effect.map(
                  fillAndRelease(
                    keyspace.id,
                    storeKey,
                    prepared.bytes,
                    prepared.ttlMillis,
                    version,
                    lease.token!,
                  ),
                  ({ written, waited }) => {
                    // The lease is released: nothing is left to release afterwards.
                    lease.token = undefined
                    announce = waited
                    return written
                  },
                )
              : versioned.fill(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis, version)
        const written = yield* l2.via("fill", write).pipe(Effect.catch(l2.recover(keyspace, "fill", false)))
        // Not written: a newer write or delete got there first, or the outcome is unknown. L1 keeps out of it.
        if (!written) return l1.copyOf(keyspace, prepared.bytes)
      }
      const value = writes.fillWritten(keyspace, storeKey, prepared, ticket)
      if (announce) yield* bus.publish({ _tag: "Filled", space: keyspace.id, keys: [storeKey] })
      return value
    })

  return { tagsBefore, storeLoaded }
}
