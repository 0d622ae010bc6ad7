/**
 * The write path: `set`, `setMany`, `delete`, `invalidateTag`, `clear` and
 * `increment`. Every input is checked and every entry encoded before any
 * I/O; then one commit sequence runs for every kind of write:
 *
 * 1. the L2 step (through the breaker);
 * 2. whatever its outcome, this process's L1 copies of what was written are
 *    dropped and the fills in flight for it voided (they may hold what the
 *    write replaced);
 * 3. on success, L1 takes this process's own value and the invalidation is
 *    published. On a failure whose outcome is unknown (a timeout, a lost
 *    connection: the write may have landed) the invalidation is published
 *    too, so other processes re-read whatever the store holds (ADR 0008);
 *    on a definite failure nothing is published.
 */
import { Cause, Effect, Exit, Option, Result } from "effect"
import * as Argument from "../../Argument.ts"
import type { Message } from "../../Bus.ts"
import type { WriteOptions } from "../../Cache.ts"
import * as Entry from "../../Entry.ts"
import {
  EntryTooLarge,
  InvalidArgument,
  type InvalidKey,
  type InvalidValue,
  outcomeUnknown,
  type StoreError,
} from "../../Errors.ts"
import type { Counter, Keyspace } from "../../Keyspace.ts"
import { MAX_DURATION_MS } from "../duration.ts"
import type { FillGuard, Ticket } from "../fillGuard.ts"
import type { BusEvents } from "./busEvents.ts"
import type { Config } from "./config.ts"
import { hasLoneSurrogate, lifetimeOf, readBatch, storeKeyOf, tagsOf } from "./inputs.ts"
import type { L1View } from "./l1View.ts"
import { type SharedTier, TAGS_SPACE } from "./sharedTier.ts"

/** An entry encoded for writing. Times are wall-clock ms. */
export interface Prepared {
  readonly bytes: Uint8Array
  readonly freshUntil: number
  readonly staleUntil: number
  readonly tagVersions: Entry.TagVersions | undefined
  /** TTL to store it with: `ttl + staleFor`. */
  readonly ttlMillis: number
}

/** A write's L2 step failed: drop what it may have replaced; the message to publish if it may have landed. */
export const afterFailure = (invalidate: () => void, onUnknown: Message, error: StoreError | undefined) => {
  invalidate()
  return error !== undefined && outcomeUnknown(error) ? onUnknown : undefined
}

/** A write's L2 step landed (or there is none): L1 takes the new state; the message to publish. */
export const afterSuccess = <A>(
  invalidate: () => void,
  apply: (result: A | undefined) => void,
  announce: (result: A | undefined) => Message,
  result: A | undefined,
) => {
  invalidate()
  apply(result)
  return announce(result)
}

/** The write operations (see {@link make}). */
export type Writes = ReturnType<typeof make>

/** Builds the write path. */
export const make = (
  config: Config,
  l1: L1View,
  l2: SharedTier,
  bus: BusEvents,
  guard: FillGuard,
  wallNow: () => number,
) => {
  const store = l2.store

  /**
   * Runs the L2 step of a write, then keeps L1 and the fills in flight
   * consistent with it (see the module comment). `invalidate` drops the
   * written copies and voids their fills; `apply` runs on success;
   * `announce` is the message to publish; `onUnknown` the one to publish
   * when the outcome is unknown. `landed` says whether a step that returned
   * wrote anything (a compare-and-set may not): when it did not, nothing
   * else happens.
   */
  const commit = <A>(
    operation: string,
    step: Effect.Effect<A, StoreError> | undefined,
    invalidate: () => void,
    apply: (result: A | undefined) => void,
    announce: (result: A | undefined) => Message,
    onUnknown: Message = announce(undefined),
    landed: (result: A) => boolean = () => true,
  ): Effect.Effect<A | undefined, StoreError> =>
    Effect.gen(function* () {
      let result: A | undefined
      if (step !== undefined) {
        const exit = yield* Effect.exit(l2.via(operation, step))
        if (Exit.isFailure(exit)) {
          const error = Cause.findErrorOption(exit.cause)
          const message = afterFailure(invalidate, onUnknown, Option.getOrUndefined(error))
          if (message !== undefined) yield* bus.publish(message)
          return yield* exit
        }
        result = exit.value
        if (!landed(result)) return result
      }
      yield* bus.publish(afterSuccess(invalidate, apply, announce, result))
      return result
    })

  const prepare = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
    value: V,
    ttl: number,
    staleFor: number,
    // A load passes the tag versions read before its loader ran (see `load`); a write reads them now.
    readBefore?: { readonly tagVersions: Entry.TagVersions | undefined },
  ): Effect.Effect<Prepared, InvalidKey | InvalidValue | EntryTooLarge | StoreError> =>
    Effect.gen(function* () {
      const tagVersions =
        readBefore !== undefined
          ? readBefore.tagVersions
          : yield* l2.tagVersions(
              yield* Effect.try({ try: () => tagsOf(keyspace, key), catch: (e) => e as InvalidKey }),
            )
      const prepared = encode(keyspace, value, ttl, staleFor, tagVersions)
      if ("_tag" in prepared) return yield* prepared
      return prepared
    })

  /** Encodes an entry written now (the synchronous part of `prepare`, which the Promise `set` shares). */
  const encode = <K, V>(
    keyspace: Keyspace<K, V>,
    value: V,
    ttl: number,
    staleFor: number,
    tagVersions: Entry.TagVersions | undefined,
  ): Prepared | InvalidValue | EntryTooLarge => {
    const createdAt = wallNow()
    const freshUntil = createdAt + ttl
    const staleUntil = freshUntil + staleFor
    const encoded = Entry.encode(keyspace, value, createdAt, freshUntil, staleUntil, tagVersions)
    if (Result.isFailure(encoded)) return encoded.failure
    const { bytes } = encoded.success
    if (bytes.length > config.maxEntryBytes)
      return new EntryTooLarge({ keyspace: keyspace.id, bytes: bytes.length, limit: config.maxEntryBytes })
    return { bytes, freshUntil, staleUntil, tagVersions, ttlMillis: ttl + staleFor }
  }

  const fillWritten = (keyspace: Keyspace<any, any>, storeKey: string, prepared: Prepared, ticket?: Ticket) =>
    l1.fill(
      keyspace,
      storeKey,
      l1.copyOf(keyspace, prepared.bytes),
      prepared.bytes,
      prepared.freshUntil,
      prepared.staleUntil,
      prepared.tagVersions,
      ticket,
    )

  /** L1 keeps what this process wrote, decoded when first read (see `L1View.keep`). */
  const keepWritten = (keyspace: Keyspace<any, any>, storeKey: string, prepared: Prepared) =>
    l1.keep(
      keyspace,
      storeKey,
      prepared.bytes,
      prepared.freshUntil,
      prepared.staleUntil,
      prepared.tagVersions,
    )

  const dropKeys = (space: string, keys: ReadonlyArray<string>) => () => {
    for (const key of keys) {
      l1.drop(space, key)
      guard.voidKey(space, key)
    }
  }

  const set = <K, V>(keyspace: Keyspace<K, V>, key: K, value: V, options?: WriteOptions) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(keyspace, key)
      const { ttl, staleFor } = yield* lifetimeOf(keyspace, options)
      const prepared = yield* prepare(keyspace, key, value, ttl, staleFor)
      yield* commit(
        "set",
        store?.set(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis),
        dropKeys(keyspace.id, [storeKey]),
        () => keepWritten(keyspace, storeKey, prepared),
        () => ({ _tag: "InvalidateKeys", space: keyspace.id, keys: [storeKey] }),
      )
    })

  const setMany = <K, V>(
    keyspace: Keyspace<K, V>,
    entries: ReadonlyArray<readonly [K, V]>,
    options?: WriteOptions,
  ) =>
    Effect.gen(function* () {
      const expected = "setMany takes an array of [key, value] pairs"
      const batch = readBatch<readonly [K, V]>(entries, "setMany.entries", expected)
      if (batch instanceof InvalidArgument) return yield* batch
      const pairs: Array<readonly [K, V]> = []
      for (const entry of batch) {
        const pair = readBatch<unknown>(entry, "setMany.entries", expected)
        if (pair instanceof InvalidArgument || pair.length !== 2)
          return yield* pair instanceof InvalidArgument
            ? pair
            : new InvalidArgument({ argument: "setMany.entries", message: expected })
        pairs.push(pair as unknown as readonly [K, V])
      }
      const { ttl, staleFor } = yield* lifetimeOf(keyspace, options)
      const written: Array<{ readonly storeKey: string; readonly prepared: Prepared }> = []
      for (const [key, value] of pairs) {
        const storeKey = yield* storeKeyOf(keyspace, key)
        written.push({ storeKey, prepared: yield* prepare(keyspace, key, value, ttl, staleFor) })
      }
      if (written.length === 0) return
      const keys = written.map((w) => w.storeKey)
      yield* commit(
        "setMany",
        store?.setMany(
          keyspace.id,
          written.map((w) => ({ key: w.storeKey, value: w.prepared.bytes, ttlMillis: w.prepared.ttlMillis })),
        ),
        dropKeys(keyspace.id, keys),
        () => {
          for (const w of written) keepWritten(keyspace, w.storeKey, w.prepared)
        },
        () => ({ _tag: "InvalidateKeys", space: keyspace.id, keys }),
      )
    })

  const del = <K, V>(keyspace: Keyspace<K, V>, key: K) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(keyspace, key)
      yield* commit(
        "delete",
        store?.delete(keyspace.id, storeKey),
        dropKeys(keyspace.id, [storeKey]),
        () => {},
        () => ({ _tag: "InvalidateKeys", space: keyspace.id, keys: [storeKey] }),
      )
    })

  const invalidateTag = (tag: string) =>
    Effect.gen(function* () {
      if (typeof tag !== "string")
        return yield* new InvalidArgument({
          argument: "tag",
          message: `a tag is a string, got ${typeof tag}`,
        })
      if (hasLoneSurrogate(tag))
        return yield* new InvalidArgument({
          argument: "tag",
          message: "a tag holds a lone surrogate (not valid Unicode text)",
        })
      const local = (l1.tier?.tags.get(tag) ?? 0) + 1
      yield* commit(
        "invalidateTag",
        store?.increment(TAGS_SPACE, tag, 1, MAX_DURATION_MS),
        () => guard.voidTag(tag),
        (version) => l1.tier?.learnTag(tag, version ?? local),
        (version) => ({ _tag: "InvalidateTag", tag, version: version ?? local }),
        // The new version is unknown, and a lower one would be ignored: every process drops its L1.
        { _tag: "Reset", reason: `an invalidation of tag ${JSON.stringify(tag)} timed out` },
      )
    })

  const clear = <K, V>(keyspace: Keyspace<K, V>) =>
    commit(
      "clear",
      store?.clear(keyspace.id),
      () => {
        l1.dropSpace(keyspace.id)
        guard.voidSpace(keyspace.id)
      },
      () => {},
      () => ({ _tag: "ClearSpace", space: keyspace.id }),
    ).pipe(Effect.asVoid)

  const increment = <K>(counter: Counter<K>, key: K, by: number = 1) =>
    Effect.gen(function* () {
      const amount = yield* Effect.try({
        try: () => Argument.integer("increment.by", by),
        catch: (error) => error as InvalidArgument,
      })
      const storeKey = yield* storeKeyOf(counter, key)
      if (store !== undefined) {
        return yield* l2
          .via("increment", store.increment(counter.id, storeKey, amount, counter.ttlMillis))
          .pipe(
            Effect.catchIf(
              (error) => error._tag === "StoreUnavailable" && error.reason === "out-of-range",
              (error) =>
                Effect.fail(new InvalidArgument({ argument: "increment.by", message: error.message })),
            ),
          )
      }
      // L1 only: this process is the authority.
      const tier = l1.tier!
      const slot = tier.alive(counter.id, storeKey)
      const count = (slot === undefined ? 0 : (slot.value as number)) + amount
      if (!Number.isSafeInteger(count)) {
        return yield* new InvalidArgument({
          argument: "increment.by",
          message: `the counter would leave the safe integer range (${slot?.value as number} + ${amount})`,
        })
      }
      const mono = tier.now()
      const expiresAt = slot?.expiresAt ?? mono + counter.ttlMillis
      tier.sieve.set(
        counter.id,
        storeKey,
        {
          value: count,
          freshUntil: expiresAt,
          expiresAt,
          tagVersions: undefined,
          copy: undefined,
          size: storeKey.length + 72,
          visited: true,
          filledAt: mono,
        },
        mono,
      )
      return count
    })

  return {
    commit,
    dropKeys,
    prepare,
    encode,
    fillWritten,
    keepWritten,
    set,
    setMany,
    delete: del,
    invalidateTag,
    clear,
    increment,
  }
}
