/**
 * Atomic read-modify-write: `update(keyspace, key, f)` replaces the value
 * under a key with `f(current)`, where `current` is the fresh value the
 * authoritative tier holds (or `undefined`), so that two concurrent updates
 * never lose one another (the session cart, the write-through of a record
 * that must never go back to an older version).
 *
 * Over a shared tier it is optimistic concurrency: read the value and its
 * version, compute, write only if the version is still the one read (the
 * store's compare-and-set `fill`), and on a conflict wait a random, growing
 * while (0-1 ms, 0-2 ms, ... up to 0-64 ms: jitter keeps racing processes
 * from colliding again in step) and read and compute again, up to
 * `UPDATE_ATTEMPTS` times; then it fails with `UpdateConflict`. Updates of
 * one key in one process run one after another, so only other processes
 * can conflict. With
 * L1 only, this process is the authority and the update runs in one step.
 * `f` must be pure and fast: it may run several times. Returning `current`
 * itself (the same object) writes nothing.
 */
import { Effect } from "effect"
import type { WriteOptions } from "../../Cache.ts"
import { InvalidArgument, type InvalidKey, LoaderFailed, UpdateConflict } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import { lifetimeOf, storeKeyOf, tagsOf } from "./inputs.ts"
import type { L1View } from "./l1View.ts"
import { MISS } from "./l1View.ts"
import type { SharedTier } from "./sharedTier.ts"
import type { Writes } from "./writes.ts"

/** How many times an update reads, computes and tries to write before it gives up. */
export const UPDATE_ATTEMPTS = 16

/** Builds `update`. */
export const make = (l1: L1View, l2: SharedTier, writes: Writes, wallNow: () => number) => {
  const store = l2.store
  // One update of a key at a time in this process: the tail of each key's queue, removed when it drains.
  const queues = new Map<string, Promise<void>>()
  const inTurn = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      const before = queues.get(key) ?? Promise.resolve()
      let done!: () => void
      const mine = new Promise<void>((resolve) => {
        done = resolve
      })
      queues.set(key, mine)
      return Effect.promise(() => before).pipe(
        Effect.andThen(effect),
        Effect.ensuring(
          Effect.sync(() => {
            if (queues.get(key) === mine) queues.delete(key)
            done()
          }),
        ),
      )
    })

  /** `f(current)`, its throw turned into a typed failure. */
  const compute = <V>(keyspace: Keyspace<any, V>, f: (current: V | undefined) => V, current: V | undefined) =>
    Effect.try({
      try: () => f(current),
      catch: (cause) => new LoaderFailed({ keyspace: keyspace.id, cause }),
    })

  const update = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
    f: (current: V | undefined) => V,
    options?: WriteOptions,
  ) =>
    Effect.gen(function* () {
      if (typeof f !== "function")
        return yield* new InvalidArgument({
          argument: "update.f",
          message: "update takes a function of the current value",
        })
      const storeKey = yield* storeKeyOf(keyspace, key)
      const { ttl, staleFor } = yield* lifetimeOf(keyspace, options)
      if (store === undefined) {
        // L1 is the authority: read, compute and write in one synchronous step of this process.
        const hit = l1.uses(keyspace) ? l1.fresh(keyspace.id, storeKey) : MISS
        const current = hit === MISS ? undefined : (hit as V)
        const next = yield* compute(keyspace, f, current)
        if (current !== undefined && next === current) return current
        yield* writes.set(keyspace, key, next, options)
        return next
      }
      const versioned = store.versioned
      if (versioned === undefined) {
        return yield* new InvalidArgument({
          argument: "update",
          message: `the shared tier "${store.name}" has no versioned operations, so it cannot update atomically`,
        })
      }
      return yield* inTurn(
        `${keyspace.id}\u0000${storeKey}`,
        attempts(keyspace, key, storeKey, f, ttl, staleFor),
      )
    })

  const attempts = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    f: (current: V | undefined) => V,
    ttl: number,
    staleFor: number,
  ) =>
    Effect.gen(function* () {
      const versioned = store!.versioned!
      const tags = yield* Effect.try({ try: () => tagsOf(keyspace, key), catch: (e) => e as InvalidKey })
      for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        if (attempt > 0) yield* Effect.sleep(Math.random() * 2 ** Math.min(attempt - 1, 6))
        // The tag versions are read before the value: a tag invalidated after this read leaves what this
        // update writes outdated at once, instead of carrying what it read past the invalidation.
        const tagVersions = yield* l2.tagVersions(tags)
        const read = yield* l2.via("get", versioned.get(keyspace.id, storeKey))
        const accepted = l2.accept(keyspace, storeKey, read.value)
        const entry = Effect.isEffect(accepted) ? yield* accepted : accepted
        const current = entry !== undefined && entry.freshUntil > wallNow() ? entry.value : undefined
        const next = yield* compute(keyspace, f, current)
        if (current !== undefined && next === current) return current
        const prepared = yield* writes.prepare(keyspace, key, next, ttl, staleFor, { tagVersions })
        const written = yield* writes.commit(
          "update",
          versioned.fill(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis, read.version),
          writes.dropKeys(keyspace.id, [storeKey]),
          () => writes.keepWritten(keyspace, storeKey, prepared),
          () => ({ _tag: "InvalidateKeys", space: keyspace.id, keys: [storeKey] }),
          undefined,
          (landed) => landed,
        )
        if (written === true) return l1.copyOf(keyspace, prepared.bytes) as V
      }
      return yield* new UpdateConflict({ keyspace: keyspace.id, key: storeKey, attempts: UPDATE_ATTEMPTS })
    })

  return update
}
