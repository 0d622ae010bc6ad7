/**
 * The memory tier: a `Store` inside this process, bounded by entry count and
 * by bytes, with SIEVE eviction (better than LRU at the same cost of one
 * `Map.get` per hit) and expiry on a monotonic clock. It needs no server, so
 * it is the embedded default for demos and tests, and the reference driver
 * the conformance suite is written against. It offers every capability
 * (versioned writes with tombstones, leases), so several caches sharing one
 * memory store in a test behave as processes sharing a Redis do. It is not
 * shared between processes.
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { Clock, Effect, Layer } from "effect"
import * as Entry from "./Entry.ts"
import { StoreUnavailable } from "./Errors.ts"
import { monotonicMillis } from "./internal/clock.ts"
import { getOrCreate } from "./internal/maps.ts"
import { Sieve, type Slot } from "./internal/sieve.ts"
import { type LeaseResult, type Service, Store } from "./Store.ts"

/** Bounds of a memory tier. */
export interface Options {
  /** Most entries kept (tombstones included); default 10,000. */
  readonly maxEntries?: number | undefined
  /** Most bytes of values kept; default 64 MiB. */
  readonly maxBytes?: number | undefined
  /** How long a delete's tombstone keeps the key's version; default 10 s. */
  readonly tombstoneMillis?: number | undefined
}

interface MemorySlot extends Slot {
  /** `undefined` for a tombstone. */
  readonly bytes: Uint8Array | undefined
  readonly version: number
}

/** Extra bytes charged per entry for the key and the slot object, so tiny values still count. */
const OVERHEAD = 64

/**
 * Builds a memory store. Reads time from Effect's `Clock`, so `TestClock`
 * drives its expiry in tests.
 *
 * @example
 * ```ts
 * const store = yield* MemoryStore.make({ maxEntries: 1_000 })
 * ```
 */
export const make = Effect.fnUntraced(function* (options: Options = {}) {
  const now = monotonicMillis(yield* Clock.Clock)
  const tombstoneMillis = options.tombstoneMillis ?? 10_000
  const sieve = new Sieve<MemorySlot>({
    maxEntries: options.maxEntries ?? 10_000,
    maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
  })
  const leases = new Map<
    string,
    Map<string, { readonly token: string; readonly expiresAt: number; waited: boolean }>
  >()

  /** The live slot (value or tombstone) under a key; drops it when expired. */
  const live = (space: string, key: string, at: number): MemorySlot | undefined => {
    const slot = sieve.get(space, key)
    if (slot === undefined) return undefined
    if (slot.expiresAt <= at) {
      sieve.delete(space, key)
      return undefined
    }
    return slot
  }

  const read = (space: string, key: string): Uint8Array | undefined => live(space, key, now())?.bytes?.slice()

  const write = (
    space: string,
    key: string,
    value: Uint8Array | undefined,
    ttlMillis: number,
    at = now(),
  ): number => {
    const version = (live(space, key, at)?.version ?? 0) + 1
    const size = (value?.length ?? 0) + key.length + OVERHEAD
    sieve.set(
      space,
      key,
      { bytes: value?.slice(), version, size, expiresAt: at + ttlMillis, visited: false },
      at,
    )
    return version
  }

  const versionedRead = (space: string, key: string) => {
    const slot = live(space, key, now())
    return { value: slot?.bytes?.slice(), version: slot?.version ?? 0 }
  }

  const takeLease = (
    space: string,
    key: string,
    ttlMillis: number,
    expectedVersion: number | undefined,
  ): LeaseResult => {
    const at = now()
    const held = getOrCreate(leases, space, () => new Map())
    const current = held.get(key)
    if (current !== undefined && current.expiresAt > at) {
      current.waited = true
      return { _tag: "Held" }
    }
    if (expectedVersion !== undefined && (live(space, key, at)?.version ?? 0) !== expectedVersion) {
      return { _tag: "Changed" }
    }
    const token = randomUUID()
    held.set(key, { token, expiresAt: at + ttlMillis, waited: false })
    return { _tag: "Acquired", token }
  }

  const service: Service = {
    name: "memory",
    capabilities: { local: true },
    get: (space, key) => Effect.sync(() => read(space, key)),
    getMany: (space, keys) => Effect.sync(() => keys.map((key) => read(space, key))),
    set: (space, key, value, ttlMillis) =>
      Effect.sync(() => {
        write(space, key, value, ttlMillis)
      }),
    setMany: (space, writes) =>
      Effect.sync(() => {
        for (const w of writes) write(space, w.key, w.value, w.ttlMillis)
      }),
    delete: (space, key) =>
      Effect.sync(() => {
        write(space, key, undefined, tombstoneMillis)
      }),
    increment: (space, key, by, ttlMillis) =>
      Effect.suspend(() => {
        const at = now()
        const slot = live(space, key, at)
        const current = slot?.bytes === undefined ? undefined : Entry.parseCounter(slot.bytes)
        const count = (current ?? 0) + by
        if (!Number.isSafeInteger(count)) {
          return Effect.fail(
            new StoreUnavailable({
              store: "memory",
              operation: "increment",
              reason: "out-of-range",
              message: `the counter would leave the safe integer range (${current ?? 0} + ${by})`,
            }),
          )
        }
        const bytes = Entry.counterBytes(count)
        const expiresAt = current === undefined ? at + ttlMillis : slot!.expiresAt
        sieve.set(
          space,
          key,
          {
            bytes,
            version: (slot?.version ?? 0) + 1,
            size: bytes.length + key.length + OVERHEAD,
            expiresAt,
            visited: true,
          },
          at,
        )
        return Effect.succeed(count)
      }),
    clear: (space) =>
      Effect.sync(() => {
        sieve.deleteSpace(space)
      }),
    versioned: {
      get: (space, key) => Effect.sync(() => versionedRead(space, key)),
      getMany: (space, keys) => Effect.sync(() => keys.map((key) => versionedRead(space, key))),
      fill: (space, key, value, ttlMillis, expectedVersion) =>
        Effect.sync(() => {
          const at = now()
          if ((live(space, key, at)?.version ?? 0) !== expectedVersion) return false
          write(space, key, value, ttlMillis, at)
          return true
        }),
    },
    refresh: undefined,
    leases: {
      acquire: (space, key, ttlMillis, expectedVersion) =>
        Effect.sync(() => takeLease(space, key, ttlMillis, expectedVersion)),
      readOrAcquire: (space, key, ttlMillis) =>
        Effect.sync(() => {
          const read = versionedRead(space, key)
          if (read.value !== undefined) return { read, lease: undefined }
          return { read, lease: takeLease(space, key, ttlMillis, undefined) }
        }),
      fillAndRelease: (space, key, value, ttlMillis, expectedVersion, token) =>
        Effect.sync(() => {
          const at = now()
          const written = (live(space, key, at)?.version ?? 0) === expectedVersion
          if (written) write(space, key, value, ttlMillis, at)
          const held = leases.get(space)
          const current = held?.get(key)
          const mine = current !== undefined && current.token === token && current.expiresAt > at
          if (mine) held!.delete(key)
          return { written, waited: mine && current.waited }
        }),
      release: (space, key, token) =>
        Effect.sync(() => {
          const held = leases.get(space)
          const current = held?.get(key)
          if (current === undefined || current.token !== token || current.expiresAt <= now()) return false
          held!.delete(key)
          return true
        }),
      renew: (space, key, token, ttlMillis) =>
        Effect.sync(() => {
          const at = now()
          const held = leases.get(space)
          const current = held?.get(key)
          if (current === undefined || current.token !== token || current.expiresAt <= at) return false
          held!.set(key, { ...current, expiresAt: at + ttlMillis })
          return true
        }),
    },
  }
  return service
})

/**
 * A layer providing a memory store as the `Store` service.
 *
 * @example
 * ```ts
 * const CacheLive = Cache.layer({ l2: MemoryStore.layer({ maxBytes: 16 * 1024 * 1024 }) })
 * ```
 */
export const layer = (options: Options = {}): Layer.Layer<Store> => Layer.effect(Store, make(options))
