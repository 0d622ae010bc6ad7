/**
 * The cache: typed reads and writes through keyspaces, over an in-process
 * tier (L1) and an optional shared tier (L2, any `Store`).
 *
 * Read path, top to bottom (`readThrough` below): L1 fresh hit → return;
 * else L2 → decode → check tag versions → fill L1 with the remaining TTL →
 * return; else, for `getOrSet`, one loader call per key per process (single
 * flight) → write L2, then L1 → return. If the loader fails while a stale
 * value is still inside its grace window (`staleFor`), the stale value is
 * served and a `StaleServed` event says so.
 *
 * Write path: encode and validate first (nothing is written if that fails),
 * then L2, then L1.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Exit, Layer, Option, Queue, Result, Scope, Stream } from "effect"
import type { CacheEvent } from "./CacheEvent.ts"
import * as Entry from "./Entry.ts"
import {
  EntryTooLarge,
  type InvalidDuration,
  type InvalidKey,
  type InvalidValue,
  type StoreError,
} from "./Errors.ts"
import { monotonicMillis } from "./internal/clock.ts"
import { MAX_DURATION_MS, toMillis } from "./internal/duration.ts"
import { freezeDeep } from "./internal/freeze.ts"
import { L1, type L1Options, type L1Slot } from "./internal/l1.ts"
import * as Msgpack from "./internal/msgpack.ts"
import type { Counter, Keyspace } from "./Keyspace.ts"
import * as SingleFlight from "./SingleFlight.ts"
import { Store, type Service as StoreService } from "./Store.ts"

/** The internal space that holds tag versions in the shared tier. */
export const TAGS_SPACE = "_tags"

/** Per-call options of `set` and `getOrSet`. */
export interface WriteOptions {
  /** Overrides the keyspace's `ttl` for this entry. */
  readonly ttl?: import("effect").Duration.Input | undefined
  /** Overrides the keyspace's `staleFor` for this entry. */
  readonly staleFor?: import("effect").Duration.Input | undefined
}

/** A loader: an effect, or a function of the key returning one. */
export type Loader<K, V, E, R> = Effect.Effect<V, E, R> | ((key: K) => Effect.Effect<V, E, R>)

/** Counters of what a cache did since it started. */
export interface Stats {
  readonly hitsL1: number
  readonly hitsL2: number
  readonly misses: number
  /** Loader calls (each single flight counts once). */
  readonly loads: number
  readonly loadFailures: number
  /** Callers that joined a load already in flight instead of starting one. */
  readonly coalesced: number
  readonly staleServed: number
  readonly entriesDropped: number
  readonly storeErrors: number
  readonly l1Entries: number
  readonly l1Bytes: number
}

/** The options of {@link make} and {@link layer}. */
export interface Options {
  /** Bounds of the in-process tier, or `false` to run without one. Default: 10,000 entries, 64 MiB. */
  readonly l1?: L1Options | false | undefined
  /** Largest encoded entry accepted, in bytes. Default 1 MiB. */
  readonly maxEntryBytes?: number | undefined
}

/** The cache's operations. Every method is typed by the keyspace it is given. */
export interface Service {
  /** The fresh value under `key`, from L1 or L2, or `None`. Never calls a loader. */
  readonly get: <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
  ) => Effect.Effect<Option.Option<V>, InvalidKey | StoreError>
  /**
   * The fresh value under `key`; on a miss, runs `loader` once for all
   * concurrent callers in this process, stores its value and returns it. A
   * failed load is not cached; a stale value inside its grace window is
   * served instead of the failure.
   */
  readonly getOrSet: <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    loader: Loader<K, V, E, R>,
    options?: WriteOptions,
  ) => Effect.Effect<V, E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration, R>
  /** Stores `value` under `key` (L2, then L1). */
  readonly set: <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
    value: V,
    options?: WriteOptions,
  ) => Effect.Effect<void, InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | StoreError>
  /** Removes `key` (L2, then L1). */
  readonly delete: <K, V>(keyspace: Keyspace<K, V>, key: K) => Effect.Effect<void, InvalidKey | StoreError>
  /** `get` for many keys, in order; one L2 round trip for all L1 misses. */
  readonly getMany: <K, V>(
    keyspace: Keyspace<K, V>,
    keys: ReadonlyArray<K>,
  ) => Effect.Effect<ReadonlyArray<Option.Option<V>>, InvalidKey | StoreError>
  /** `set` for many entries. Every key and value is validated before anything is written. */
  readonly setMany: <K, V>(
    keyspace: Keyspace<K, V>,
    entries: ReadonlyArray<readonly [K, V]>,
    options?: WriteOptions,
  ) => Effect.Effect<void, InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | StoreError>
  /** Makes every entry carrying `tag` a miss from now on. */
  readonly invalidateTag: (tag: string) => Effect.Effect<void, StoreError>
  /** Removes every entry of a keyspace. */
  readonly clear: <K, V>(keyspace: Keyspace<K, V>) => Effect.Effect<void, StoreError>
  /** Adds `by` (default 1) to a counter atomically and returns the new count. */
  readonly increment: <K>(
    counter: Counter<K>,
    key: K,
    by?: number,
  ) => Effect.Effect<number, InvalidKey | StoreError>
  /**
   * Synchronous L1-only read: the fresh value, or `undefined` on a miss
   * (including a value only L2 holds). Throws `InvalidKey`. This is the hot
   * path the Promise facade uses before it runs any effect.
   */
  readonly peekUnsafe: <K, V>(keyspace: Keyspace<K, V>, key: K) => V | undefined
  /** A snapshot of the counters. */
  readonly stats: () => Stats
  /** Every event the cache reports, from subscription on. */
  readonly events: Stream.Stream<CacheEvent>
  /** Registers a listener for events; returns the function that removes it. */
  readonly onEvent: (listener: (event: CacheEvent) => void) => () => void
}

/**
 * The `Cache` service.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const cache = yield* Cache.Cache
 *   const profile = yield* cache.getOrSet(Profiles, { userId: 42 }, ({ userId }) => loadProfile(userId))
 * })
 * Effect.runPromise(program.pipe(Effect.provide(Cache.layer())))
 * ```
 */
export class Cache extends Context.Service<Cache, Service>()("@strata/core/Cache") {}

const MISS: unique symbol = Symbol("strata/miss")

const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024

/**
 * Builds a cache over an optional shared tier. Loads run in the scope this
 * effect is given, so closing it interrupts them.
 */
export const make = Effect.fnUntraced(function* (
  options: Options = {},
  l2: StoreService | undefined = undefined,
) {
  const scope = yield* Effect.scope
  const clock = yield* Clock.Clock
  const wallNow = () => clock.currentTimeMillisUnsafe()
  const l1 = options.l1 === false ? undefined : new L1(options.l1 ?? {}, monotonicMillis(clock))
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES
  const flights = SingleFlight.make(scope)

  const counts = {
    hitsL1: 0,
    hitsL2: 0,
    misses: 0,
    loads: 0,
    loadFailures: 0,
    coalesced: 0,
    staleServed: 0,
    entriesDropped: 0,
    storeErrors: 0,
  }
  const listeners = new Set<(event: CacheEvent) => void>()
  const emit = (event: CacheEvent) => {
    if (event._tag === "EntryDropped") counts.entriesDropped++
    else if (event._tag === "StaleServed") counts.staleServed++
    else counts.storeErrors++
    for (const listener of listeners) listener(event)
  }

  // Counters are authoritative on the shared tier when there is one, so they bypass L1 there.
  const usesL1 = (keyspace: Keyspace<any, any>) =>
    l1 !== undefined && !(keyspace.kind === "counter" && l2 !== undefined)
  const read = (slot: L1Slot): unknown => (slot.copy === undefined ? slot.value : slot.copy())

  const freshFromL1 = (space: string, key: string): unknown => {
    const slot = l1!.sieve.get(space, key)
    if (slot === undefined) return MISS
    const now = l1!.now()
    if (slot.freshUntil <= now || (slot.tagVersions !== undefined && !l1!.tagsCurrent(slot.tagVersions))) {
      // A stale slot stays for fail-safe reads until it is dead; a dead or invalidated one goes now.
      if (slot.expiresAt <= now || slot.tagVersions !== undefined) l1!.alive(space, key)
      return MISS
    }
    counts.hitsL1++
    return slot.copy === undefined ? slot.value : slot.copy()
  }

  /** Fills L1 with a decoded entry whose times are wall-clock; times become monotonic here. */
  const fill = (
    keyspace: Keyspace<any, any>,
    key: string,
    value: unknown,
    envelopeBytes: Uint8Array,
    freshUntilWall: number,
    staleUntilWall: number,
    tagVersions: Entry.TagVersions | undefined,
  ): unknown => {
    const needsCopy = freezeDeep(value)
    if (l1 === undefined || !usesL1(keyspace)) return needsCopy ? copyOf(keyspace, envelopeBytes) : value
    const wall = wallNow()
    const mono = l1.now()
    l1.sieve.set(
      keyspace.id,
      key,
      {
        value,
        freshUntil: mono + (freshUntilWall - wall),
        expiresAt: mono + (staleUntilWall - wall),
        tagVersions,
        copy: needsCopy ? () => copyOf(keyspace, envelopeBytes) : undefined,
        size: envelopeBytes.length + key.length + 64,
        visited: false,
      },
      mono,
    )
    return needsCopy ? copyOf(keyspace, envelopeBytes) : value
  }

  /** A fresh decoded copy of the value inside envelope bytes this process wrote or read. */
  const copyOf = (keyspace: Keyspace<any, any>, envelopeBytes: Uint8Array): unknown => {
    if (keyspace.kind === "counter") return Entry.parseCounter(envelopeBytes)
    const envelope = Msgpack.unpack(envelopeBytes) as Array<unknown>
    return Result.getOrThrow(Entry.decodeValue(keyspace, envelope[5]))
  }

  const storeKeyOf = <K>(keyspace: Keyspace<K, any>, key: K) =>
    Effect.try({ try: () => keyspace.storeKey(key), catch: (error) => error as InvalidKey })

  const durations = (keyspace: Keyspace<any, any>, options: WriteOptions | undefined) =>
    Effect.try({
      try: () => ({
        ttl: options?.ttl === undefined ? keyspace.ttlMillis : toMillis(options.ttl, `${keyspace.id}: ttl`),
        staleFor:
          options?.staleFor === undefined
            ? keyspace.staleForMillis
            : toMillis(options.staleFor, `${keyspace.id}: staleFor`, true),
      }),
      catch: (error) => error as InvalidDuration,
    })

  /** The versions of `tags` now: from L2 (the authority) when there is one, else from L1. */
  const currentTagVersions = (tags: ReadonlyArray<string> | undefined) =>
    Effect.gen(function* () {
      if (tags === undefined || tags.length === 0) return undefined
      const out: Array<string | number> = []
      if (l2 !== undefined) {
        const stored = yield* l2.getMany(TAGS_SPACE, tags)
        for (let i = 0; i < tags.length; i++) {
          const bytes = stored[i]
          const version = bytes === undefined ? 0 : (Entry.parseCounter(bytes) ?? 0)
          l1?.learnTag(tags[i]!, version)
          out.push(tags[i]!, version)
        }
      } else {
        for (const tag of tags) out.push(tag, l1?.tags.get(tag) ?? 0)
      }
      return out
    })

  /** What L2 holds under a key, decoded, if alive and current. Corrupt bytes are dropped with an event. */
  /**
   * Checks bytes read from L2: undecodable ones are dropped from the store and
   * reported; dead entries and entries whose tags were invalidated are misses.
   */
  const acceptStored = <K, V>(keyspace: Keyspace<K, V>, storeKey: string, bytes: Uint8Array | undefined) =>
    Effect.gen(function* () {
      if (bytes === undefined) return undefined
      const entry = Entry.decode(keyspace, bytes)
      if (Result.isFailure(entry)) {
        emit({
          _tag: "EntryDropped",
          keyspace: keyspace.id,
          key: storeKey,
          tier: "l2",
          reason: entry.failure,
        })
        yield* l2!.delete(keyspace.id, storeKey)
        return undefined
      }
      const e = entry.success
      if (e.staleUntil <= wallNow()) return undefined
      if (e.tagVersions !== undefined) {
        const tags: Array<string> = []
        for (let i = 0; i < e.tagVersions.length; i += 2) tags.push(e.tagVersions[i] as string)
        const current = yield* currentTagVersions(tags)
        for (let i = 1; i < e.tagVersions.length; i += 2) {
          if (current![i] !== e.tagVersions[i]) return undefined
        }
      }
      return { entry: e, bytes }
    })

  /** What L2 holds under a key, decoded, if alive and current. */
  const readL2 = <K, V>(keyspace: Keyspace<K, V>, storeKey: string) =>
    l2 === undefined
      ? Effect.succeed(undefined)
      : Effect.flatMap(l2.get(keyspace.id, storeKey), (bytes) => acceptStored(keyspace, storeKey, bytes))

  /** L2 read, then L1 fill. Returns the fresh value or MISS, and the stale candidate if any. */
  const readThrough = <K, V>(keyspace: Keyspace<K, V>, storeKey: string) =>
    Effect.gen(function* () {
      const found = yield* readL2(keyspace, storeKey)
      if (found === undefined) return MISS
      const { entry, bytes } = found
      const value = fill(
        keyspace,
        storeKey,
        entry.value,
        bytes,
        entry.freshUntil,
        entry.staleUntil,
        entry.tagVersions,
      )
      if (entry.freshUntil > wallNow()) {
        counts.hitsL2++
        return value as V
      }
      return MISS
    })

  /** Encodes an entry for writing, or fails before anything is written. */
  const prepare = <K, V>(keyspace: Keyspace<K, V>, key: K, value: V, ttl: number, staleFor: number) =>
    Effect.gen(function* () {
      const tagVersions = yield* currentTagVersions(keyspace.tags?.(key))
      const createdAt = wallNow()
      const freshUntil = createdAt + ttl
      const staleUntil = freshUntil + staleFor
      const encoded = yield* Effect.fromResult(
        Entry.encode(keyspace, value, createdAt, freshUntil, staleUntil, tagVersions),
      )
      if (encoded.bytes.length > maxEntryBytes) {
        return yield* new EntryTooLarge({
          keyspace: keyspace.id,
          bytes: encoded.bytes.length,
          limit: maxEntryBytes,
        })
      }
      return { bytes: encoded.bytes, freshUntil, staleUntil, tagVersions, ttlMillis: ttl + staleFor }
    })

  type Prepared = Effect.Success<ReturnType<typeof prepare>>

  /** The decoded copy L1 keeps (never the caller's own object), filled into L1; returns it. */
  const fillWritten = (keyspace: Keyspace<any, any>, key: string, prepared: Prepared): unknown => {
    const value = copyOf(keyspace, prepared.bytes)
    return fill(
      keyspace,
      key,
      value,
      prepared.bytes,
      prepared.freshUntil,
      prepared.staleUntil,
      prepared.tagVersions,
    )
  }

  const dropL1 = (space: string, key: string) => {
    l1?.sieve.delete(space, key)
  }

  /** The store key of `key`, or the `InvalidKey` failure; the synchronous first step of every operation. */
  const storeKeyOrFail = <K>(keyspace: Keyspace<K, any>, key: K): string | InvalidKey => {
    try {
      return keyspace.storeKey(key)
    } catch (error) {
      return error as InvalidKey
    }
  }

  const getThrough = <K, V>(keyspace: Keyspace<K, V>, storeKey: string) =>
    Effect.map(readThrough(keyspace, storeKey), (value) => {
      if (value === MISS) {
        counts.misses++
        return Option.none<V>()
      }
      return Option.some(value as V)
    })

  // The L1 hit is answered synchronously inside `suspend`: no generator, no extra effects.
  const get = <K, V>(
    keyspace: Keyspace<K, V>,
    key: K,
  ): Effect.Effect<Option.Option<V>, InvalidKey | StoreError> =>
    Effect.suspend((): Effect.Effect<Option.Option<V>, InvalidKey | StoreError> => {
      const storeKey = storeKeyOrFail(keyspace, key)
      if (typeof storeKey !== "string") return Effect.fail(storeKey)
      if (usesL1(keyspace)) {
        const hit = freshFromL1(keyspace.id, storeKey)
        if (hit !== MISS) return Effect.succeed(Option.some(hit as V))
      }
      return getThrough(keyspace, storeKey)
    })

  const staleCandidate = (keyspace: Keyspace<any, any>, storeKey: string): L1Slot | undefined =>
    usesL1(keyspace) ? l1!.alive(keyspace.id, storeKey) : undefined

  const load = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    storeKey: string,
    loader: Loader<K, V, E, R>,
    options: WriteOptions | undefined,
  ) =>
    Effect.gen(function* () {
      // Another flight may have filled L1 between the caller's check and this one.
      if (usesL1(keyspace)) {
        const hit = freshFromL1(keyspace.id, storeKey)
        if (hit !== MISS) return hit as V
      }
      const fromL2 = yield* readThrough(keyspace, storeKey).pipe(
        Effect.catch((error: StoreError) => {
          emit({ _tag: "StoreFailed", keyspace: keyspace.id, operation: "get", error })
          return Effect.succeed(MISS)
        }),
      )
      if (fromL2 !== MISS) return fromL2 as V
      counts.misses++
      const { ttl, staleFor } = yield* durations(keyspace, options)
      const stale = staleCandidate(keyspace, storeKey)
      counts.loads++
      const loaded = yield* Effect.exit(Effect.isEffect(loader) ? loader : loader(key))
      if (Exit.isFailure(loaded)) {
        counts.loadFailures++
        if (stale !== undefined && stale.expiresAt > l1!.now()) {
          emit({ _tag: "StaleServed", keyspace: keyspace.id, key: storeKey, cause: loaded.cause })
          return read(stale) as V
        }
        return yield* loaded
      }
      const prepared = yield* prepare(keyspace, key, loaded.value, ttl, staleFor).pipe(
        Effect.catchTag(["StoreUnavailable", "Timeout"], (error) => {
          emit({ _tag: "StoreFailed", keyspace: keyspace.id, operation: "tagVersions", error })
          // Without current tag versions the entry cannot be checked later: serve it, do not store it.
          return Effect.succeed(undefined)
        }),
      )
      if (prepared === undefined) return loaded.value
      if (l2 !== undefined) {
        const written = yield* l2.set(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis).pipe(
          Effect.as(true),
          Effect.catch((error: StoreError) => {
            emit({ _tag: "StoreFailed", keyspace: keyspace.id, operation: "set", error })
            return Effect.succeed(false)
          }),
        )
        // An unknown L2 outcome must not leave L1 claiming a value L2 may not hold.
        if (!written) return copyOf(keyspace, prepared.bytes) as V
      }
      return fillWritten(keyspace, storeKey, prepared) as V
    })

  const getOrSet = <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: K,
    loader: Loader<K, V, E, R>,
    options?: WriteOptions,
  ): Effect.Effect<V, E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration, R> =>
    Effect.suspend(
      (): Effect.Effect<V, E | InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration, R> => {
        const storeKey = storeKeyOrFail(keyspace, key)
        if (typeof storeKey !== "string") return Effect.fail(storeKey)
        if (usesL1(keyspace)) {
          const hit = freshFromL1(keyspace.id, storeKey)
          if (hit !== MISS) return Effect.succeed(hit as V)
        }
        return flights.run(
          `${keyspace.id}:${storeKey}`,
          load(keyspace, key, storeKey, loader, options),
          () => {
            counts.coalesced++
          },
        )
      },
    )

  const set = <K, V>(keyspace: Keyspace<K, V>, key: K, value: V, options?: WriteOptions) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(keyspace, key)
      const { ttl, staleFor } = yield* durations(keyspace, options)
      const prepared = yield* prepare(keyspace, key, value, ttl, staleFor)
      if (l2 !== undefined) {
        yield* l2
          .set(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis)
          .pipe(Effect.tapError(() => Effect.sync(() => dropL1(keyspace.id, storeKey))))
      }
      fillWritten(keyspace, storeKey, prepared)
    })

  const del = <K, V>(keyspace: Keyspace<K, V>, key: K) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(keyspace, key)
      if (l2 !== undefined) {
        yield* l2
          .delete(keyspace.id, storeKey)
          .pipe(Effect.ensuring(Effect.sync(() => dropL1(keyspace.id, storeKey))))
      }
      dropL1(keyspace.id, storeKey)
    })

  const getMany = <K, V>(keyspace: Keyspace<K, V>, keys: ReadonlyArray<K>) =>
    Effect.gen(function* () {
      const storeKeys: Array<string> = []
      for (const key of keys) storeKeys.push(yield* storeKeyOf(keyspace, key))
      const results: Array<Option.Option<V>> = new Array(keys.length)
      const missing: Array<number> = []
      for (let i = 0; i < storeKeys.length; i++) {
        const hit = usesL1(keyspace) ? freshFromL1(keyspace.id, storeKeys[i]!) : MISS
        if (hit === MISS) missing.push(i)
        else results[i] = Option.some(hit as V)
      }
      if (missing.length > 0 && l2 !== undefined) {
        const stored = yield* l2.getMany(
          keyspace.id,
          missing.map((i) => storeKeys[i]!),
        )
        for (let m = 0; m < missing.length; m++) {
          const i = missing[m]!
          const found = yield* acceptStored(keyspace, storeKeys[i]!, stored[m])
          if (found === undefined) continue
          const { entry: e, bytes } = found
          const value = fill(
            keyspace,
            storeKeys[i]!,
            e.value,
            bytes,
            e.freshUntil,
            e.staleUntil,
            e.tagVersions,
          )
          if (e.freshUntil > wallNow()) {
            counts.hitsL2++
            results[i] = Option.some(value as V)
          }
        }
      }
      for (let i = 0; i < results.length; i++) {
        if (results[i] === undefined) {
          counts.misses++
          results[i] = Option.none()
        }
      }
      return results as ReadonlyArray<Option.Option<V>>
    })

  const setMany = <K, V>(
    keyspace: Keyspace<K, V>,
    entries: ReadonlyArray<readonly [K, V]>,
    options?: WriteOptions,
  ) =>
    Effect.gen(function* () {
      const { ttl, staleFor } = yield* durations(keyspace, options)
      const prepared: Array<{ storeKey: string; prepared: Prepared }> = []
      for (const [key, value] of entries) {
        const storeKey = yield* storeKeyOf(keyspace, key)
        prepared.push({
          storeKey,
          prepared: yield* prepare(keyspace, key, value, ttl, staleFor),
        })
      }
      if (l2 !== undefined) {
        yield* l2
          .setMany(
            keyspace.id,
            prepared.map((p) => ({
              key: p.storeKey,
              value: p.prepared.bytes,
              ttlMillis: p.prepared.ttlMillis,
            })),
          )
          .pipe(
            Effect.tapError(() =>
              Effect.sync(() => {
                for (const p of prepared) dropL1(keyspace.id, p.storeKey)
              }),
            ),
          )
      }
      for (const p of prepared) fillWritten(keyspace, p.storeKey, p.prepared)
    })

  const invalidateTag = (tag: string) =>
    Effect.gen(function* () {
      if (l2 !== undefined) {
        const version = yield* l2.increment(TAGS_SPACE, tag, 1, MAX_DURATION_MS)
        l1?.learnTag(tag, version)
      } else if (l1 !== undefined) {
        l1.learnTag(tag, (l1.tags.get(tag) ?? 0) + 1)
      }
    })

  const clear = <K, V>(keyspace: Keyspace<K, V>) =>
    Effect.gen(function* () {
      if (l2 !== undefined) {
        yield* l2
          .clear(keyspace.id)
          .pipe(Effect.ensuring(Effect.sync(() => l1?.sieve.deleteSpace(keyspace.id))))
      }
      l1?.sieve.deleteSpace(keyspace.id)
    })

  const increment = <K>(counter: Counter<K>, key: K, by = 1) =>
    Effect.gen(function* () {
      const storeKey = yield* storeKeyOf(counter, key)
      if (l2 !== undefined) return yield* l2.increment(counter.id, storeKey, by, counter.ttlMillis)
      const slot = l1!.alive(counter.id, storeKey)
      const count = (slot === undefined ? 0 : (slot.value as number)) + by
      const mono = l1!.now()
      const expiresAt = slot?.expiresAt ?? mono + counter.ttlMillis
      l1!.sieve.set(
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
        },
        mono,
      )
      return count
    })

  const peekUnsafe = <K, V>(keyspace: Keyspace<K, V>, key: K): V | undefined => {
    const storeKey = keyspace.storeKey(key)
    if (!usesL1(keyspace)) return undefined
    const hit = freshFromL1(keyspace.id, storeKey)
    return hit === MISS ? undefined : (hit as V)
  }

  const onEvent = (listener: (event: CacheEvent) => void) => {
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
    }
  }

  const events = Stream.callback<CacheEvent>((queue) =>
    Effect.acquireRelease(
      Effect.sync(() => onEvent((event) => Queue.offerUnsafe(queue, event))),
      (remove) => Effect.sync(remove),
    ),
  )

  const stats = (): Stats => ({
    ...counts,
    l1Entries: l1?.sieve.size ?? 0,
    l1Bytes: l1?.sieve.bytes ?? 0,
  })

  yield* Scope.addFinalizer(
    scope,
    Effect.sync(() => l1?.sieve.clear()),
  )

  return Cache.of({
    get,
    getOrSet,
    set,
    delete: del,
    getMany,
    setMany,
    invalidateTag,
    clear,
    increment,
    peekUnsafe,
    stats,
    events,
    onEvent,
  })
})

/**
 * A layer providing the `Cache` service: L1 only, or L1 over the store that
 * `l2` provides.
 *
 * @example
 * ```ts
 * const Embedded = Cache.layer()                               // L1 only
 * const Tiered = Cache.layer({ l2: MemoryStore.layer() })      // L1 over a store
 * ```
 */
export const layer = <E = never, R = never>(
  options: Options & { readonly l2?: Layer.Layer<Store, E, R> | undefined } = {},
): Layer.Layer<Cache, E, R> => {
  const { l2, ...rest } = options
  if (l2 === undefined) return Layer.effect(Cache, make(rest)) as Layer.Layer<Cache, E, R>
  return Layer.effect(
    Cache,
    Effect.gen(function* () {
      return yield* make(rest, yield* Store)
    }),
  ).pipe(Layer.provide(l2))
}
