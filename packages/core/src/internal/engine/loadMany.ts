/**
 * Loads many keys at once: `getOrSetMany(keyspace, keys, loadMany)` answers
 * from L1, then reads every miss from L2 in one round trip (with their
 * versions), then calls `loadMany` **once** with every key still missing
 * that this process should load, and stores each row as a single load would
 * (compare-and-set on the version read, L1 if the fill's ticket holds).
 *
 * Every key gets a flight, so a single `getOrSet` of a key in the batch
 * joins it, and a batch joins the flights already in flight for its keys.
 * Across processes each missing key's lease is taken: keys this process
 * holds are loaded in the one `loadMany` call; keys another process holds
 * are waited for as a single load waits (and loaded by themselves, in a
 * further `loadMany` call, only if their holder dies). A row `loadMany`
 * returns as `undefined` is "not found": answered as `None`, not cached.
 */
import { Cause, Deferred, Effect, Exit, Fiber, Option, type Scope } from "effect"
import type { LoadOptions } from "../../Cache.ts"
import {
  type EntryTooLarge,
  InvalidArgument,
  type InvalidDuration,
  type InvalidKey,
  InvalidValue,
  LoaderCycle,
  type Timeout,
} from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import type { FillGuard, Ticket } from "../fillGuard.ts"
import type { Config } from "./config.ts"
import { CurrentFlight, type Flight, type Flights, NOT_FOUND } from "./flights.ts"
import { LOAD_OPTIONS, lifetimeOf, readBatch, storeKeyOrError, tagsOf } from "./inputs.ts"
import { type L1View, MISS, staleValueOf } from "./l1View.ts"
import type { LeaseStep } from "./leases.ts"
import type * as Load from "./load.ts"
import { noRead, type SharedTier } from "./sharedTier.ts"
import type { Telemetry } from "./telemetry.ts"

/** A batch loader: the rows of `keys`, in their order, `undefined` for a key with no row. */
export type LoadMany<K, V, E, R> = (
  keys: ReadonlyArray<K>,
) => Effect.Effect<ReadonlyArray<V | undefined>, E, R>

interface Pending<K> {
  readonly key: K
  readonly storeKey: string
  readonly tags: ReadonlyArray<string> | undefined
  readonly flight: Flight
  ticket: Ticket | undefined
  version: number | undefined
  token: string | undefined
}

/** Builds `getOrSetMany`. */
export const make = (
  config: Config,
  l1: L1View,
  l2: SharedTier,
  leaseStep: LeaseStep | undefined,
  guard: FillGuard,
  flights: Flights,
  loads: ReturnType<typeof Load.make>,
  telemetry: Telemetry,
  monoNow: () => number,
  wallNow: () => number,
  scope: Scope.Scope,
) => {
  const { counts } = telemetry
  const store = l2.store
  const leaseTtl = config.lease?.ttl ?? 0

  /** The work of one batch: settles every flight in `pending` (the observer settles what a failure leaves). */
  const work = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    pending: ReadonlyArray<Pending<K>>,
    loadMany: LoadMany<K, V, E, R>,
    options: LoadOptions | undefined,
    batch: Flight,
  ) =>
    Effect.gen(function* () {
      const { ttl, staleFor } = yield* lifetimeOf(keyspace, options, LOAD_OPTIONS)
      const hard = yield* loads.hardTimeoutOf(options)
      const settle = (p: Pending<K>, value: unknown) => flights.settle(p.flight, Exit.succeed(value))
      const leases = leaseStep !== undefined ? store?.leases : undefined
      /** Loads `group` in one call and stores each row; a failure fails the group's flights. */
      const loadGroup = (group: ReadonlyArray<Pending<K>>) =>
        Effect.gen(function* () {
          const tags = yield* Effect.forEach(group, (p) => loads.tagsBefore(keyspace, p.key), {
            concurrency: "unbounded",
          })
          counts.loads++
          const rows = yield* loads.timed(keyspace, loadMany(group.map((p) => p.key)), hard, batch)
          if (!Array.isArray(rows) || rows.length !== group.length) {
            return yield* new InvalidValue({
              keyspace: keyspace.id,
              message: `loadMany returned ${Array.isArray(rows) ? rows.length : typeof rows} results for ${group.length} keys; nothing was stored`,
            })
          }
          for (let i = 0; i < group.length; i++) {
            const p = group[i]!
            const row = rows[i]
            if (row === undefined) {
              // Nothing is stored, so no fill wakes anyone: free the lease before answering, so the next
              // request for the key (here or elsewhere) does not wait on a lease nobody will fill.
              if (p.token !== undefined && leases !== undefined) {
                yield* l2
                  .via("lease", leases.release(keyspace.id, p.storeKey, p.token))
                  .pipe(Effect.catch(l2.recover(keyspace, "lease", false)))
                p.token = undefined
              }
              settle(p, NOT_FOUND)
              continue
            }
            const stored = yield* Effect.exit(
              loads.storeLoaded(
                keyspace,
                p.key,
                p.storeKey,
                row,
                ttl,
                staleFor,
                p.version,
                p.ticket!,
                p,
                tags[i],
              ),
            )
            flights.settle(p.flight, stored)
          }
        }).pipe(
          Effect.onError((cause) =>
            Effect.sync(() => {
              for (const p of group) flights.settle(p.flight, Exit.failCause(cause))
            }),
          ),
        )

      for (const p of pending) {
        p.ticket = guard.begin(keyspace.id, p.storeKey, p.tags)
        p.flight.ticket = p.ticket
      }
      return yield* Effect.gen(function* () {
        const reads = yield* l2.readMany(
          keyspace,
          pending.map((p) => p.storeKey),
        )
        const missing: Array<Pending<K>> = []
        for (let i = 0; i < pending.length; i++) {
          const p = pending[i]!
          const { value: bytes, version } = reads[i]!
          p.version = Number.isNaN(version) ? undefined : version
          const accepted = l2.accept(keyspace, p.storeKey, bytes)
          const entry = Effect.isEffect(accepted)
            ? yield* accepted.pipe(Effect.catch(l2.recover(keyspace, "get", undefined)))
            : accepted
          if (entry !== undefined) {
            const value = l1.fill(
              keyspace,
              p.storeKey,
              entry.value,
              bytes!,
              entry.freshUntil,
              entry.staleUntil,
              entry.tagVersions,
              p.ticket,
            )
            const wall = wallNow()
            if (entry.freshUntil > wall) {
              counts.hitsL2++
              settle(p, value)
              continue
            }
            p.flight.stale = staleValueOf(value, entry, monoNow(), wall)
          }
          counts.misses++
          missing.push(p)
        }
        if (missing.length === 0) return
        if (leases === undefined) return yield* loadGroup(missing)

        // Take each missing key's lease at once; load the ones this process holds in one call.
        const taken = yield* Effect.forEach(
          missing,
          (p) =>
            l2
              .via("lease", leases.acquire(keyspace.id, p.storeKey, leaseTtl, p.version))
              .pipe(Effect.catch(l2.recover(keyspace, "lease", undefined))),
          { concurrency: "unbounded" },
        )
        const mine: Array<Pending<K>> = []
        const others: Array<Pending<K>> = []
        taken.forEach((lease, i) => {
          const p = missing[i]!
          if (lease === undefined || lease._tag === "Acquired") {
            p.token = lease?.token
            mine.push(p)
          } else others.push(p)
        })
        // Keys held by another process (or changed since read) are waited for as a single load would, meanwhile.
        const waitThenLoad = (p: Pending<K>) =>
          Effect.gen(function* () {
            const outcome = yield* leaseStep!(leases, keyspace, p.storeKey, noRead(p.version), p.ticket!)
            if (outcome.read.fresh !== MISS) return settle(p, outcome.read.fresh)
            p.version = outcome.read.version
            p.token = outcome.token
            yield* loadGroup([p])
          })
        yield* Effect.all(
          [
            mine.length > 0 ? loadGroup(mine) : Effect.void,
            Effect.forEach(others, waitThenLoad, { concurrency: "unbounded", discard: true }),
          ],
          { concurrency: 2, discard: true },
        )
      }).pipe(
        Effect.ensuring(
          Effect.suspend(() => {
            for (const p of pending) if (p.ticket !== undefined) guard.end(p.ticket)
            return Effect.forEach(
              pending.filter((p) => p.token !== undefined),
              (p) => loads.release(keyspace, p.storeKey, p.token!),
              { discard: true },
            )
          }),
        ),
      )
    })

  const getOrSetMany = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    keys: ReadonlyArray<K>,
    loadMany: LoadMany<K, V, E, R>,
    options?: LoadOptions,
  ): Effect.Effect<
    ReadonlyArray<Option.Option<V>>,
    E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | InvalidArgument | Timeout | LoaderCycle,
    R
  > =>
    Effect.gen(function* () {
      const read = readBatch<K>(keys, "getOrSetMany.keys", "a batch of keys must be an array")
      if (read instanceof InvalidArgument) return yield* read
      keys = read
      if (typeof loadMany !== "function")
        return yield* new InvalidArgument({
          argument: "getOrSetMany.loadMany",
          message: "getOrSetMany takes a loadMany function",
        })
      const soft = yield* loads.softTimeoutOf(options)
      const caller = yield* CurrentFlight
      // Every key and its tags are checked before anything is read or loaded.
      const storeKeys: Array<string> = []
      const tags: Array<ReadonlyArray<string> | undefined> = []
      for (const key of keys) {
        const storeKey = storeKeyOrError(keyspace, key)
        if (typeof storeKey !== "string") return yield* storeKey
        storeKeys.push(storeKey)
        try {
          tags.push(tagsOf(keyspace, key))
        } catch (error) {
          return yield* Effect.fail(error as InvalidKey)
        }
      }
      const results: Array<Option.Option<V>> = new Array(keys.length)
      const waitFor = new Map<string, Flight>()
      const batch: Flight = {
        key: "batch",
        done: Deferred.makeUnsafe(),
        stale: undefined,
        ticket: undefined,
        waitsOn: new Set(),
      }
      const pending: Array<Pending<K>> = []
      for (let i = 0; i < keys.length; i++) {
        const storeKey = storeKeys[i]!
        if (l1.uses(keyspace)) {
          const hit = l1.fresh(keyspace.id, storeKey)
          if (hit !== MISS) {
            results[i] = Option.some(hit as V)
            continue
          }
        }
        if (waitFor.has(storeKey)) continue
        const existing = flights.existing(keyspace, storeKey, caller)
        if (existing instanceof LoaderCycle) return yield* existing
        if (existing !== undefined) {
          waitFor.set(storeKey, existing)
          continue
        }
        const flight = flights.register(flights.keyOf(keyspace.id, storeKey))
        // The key's flight waits on the batch's loader: a loadMany asking for one of its own keys is a cycle.
        flight.waitsOn.add(batch)
        waitFor.set(storeKey, flight)
        pending.push({
          key: keys[i]!,
          storeKey,
          tags: tags[i],
          flight,
          ticket: undefined,
          version: undefined,
          token: undefined,
        })
      }
      if (pending.length > 0) {
        const fiber = yield* Effect.forkIn(work(keyspace, pending, loadMany, options, batch), scope)
        fiber.addObserver((exit) => {
          // Whatever the batch could not settle (its failure, an interruption) ends those flights the same way.
          if (Exit.isFailure(exit))
            for (const p of pending) flights.settle(p.flight, exit as Exit.Exit<unknown, unknown>)
          else
            for (const p of pending)
              flights.settle(p.flight, Exit.failCause(Cause.die("batch ended without a row")))
        })
        // No soft timeout and no caller flight (cycles): await the batch, then collect without a fiber per key.
        if (soft === undefined && caller === undefined) yield* Fiber.await(fiber)
      }
      const settled = [...waitFor.values()].every((flight) => Deferred.isDoneUnsafe(flight.done))
      const values = yield* Effect.forEach(
        [...waitFor.entries()],
        ([storeKey, flight]) =>
          Effect.map(
            flights.waitAs<unknown, E | InvalidValue>(caller, flight, keyspace, storeKey, soft),
            (value) => [storeKey, value] as const,
          ),
        { concurrency: settled ? 1 : "unbounded" },
      )
      const byKey = new Map(values)
      for (let i = 0; i < keys.length; i++) {
        if (results[i] !== undefined) continue
        const value = byKey.get(storeKeys[i]!)
        results[i] = value === NOT_FOUND || value === undefined ? Option.none() : Option.some(value as V)
      }
      return results as ReadonlyArray<Option.Option<V>>
    }) as never

  return getOrSetMany
}
