/**
 * The memory tier: a `Store` inside this process, bounded by entry count and
 * by bytes, with SIEVE eviction (better than LRU at the same cost of one
 * `Map.get` per hit) and expiry on a monotonic clock. It needs no server, so
 * it is the embedded default for demos and tests, and the reference driver
 * the conformance suite is written against. It is not shared between
 * processes: use it as a cache's only tier, or as a stand-in L2 in tests.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Layer } from "effect"
import * as Entry from "./Entry.ts"
import { monotonicMillis } from "./internal/clock.ts"
import { Sieve, type Slot } from "./internal/sieve.ts"
import { type Service, Store } from "./Store.ts"

/** Bounds of a memory tier. */
export interface Options {
  /** Most entries kept; default 10,000. */
  readonly maxEntries?: number | undefined
  /** Most bytes of values kept; default 64 MiB. */
  readonly maxBytes?: number | undefined
}

interface MemorySlot extends Slot {
  readonly bytes: Uint8Array
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
  const sieve = new Sieve<MemorySlot>({
    maxEntries: options.maxEntries ?? 10_000,
    maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
  })
  const read = (space: string, key: string): Uint8Array | undefined => {
    const slot = sieve.get(space, key)
    if (slot === undefined) return undefined
    if (slot.expiresAt <= now()) {
      sieve.delete(space, key)
      return undefined
    }
    return slot.bytes.slice()
  }

  const write = (space: string, key: string, value: Uint8Array, ttlMillis: number): void => {
    const at = now()
    sieve.set(
      space,
      key,
      {
        bytes: value.slice(),
        size: value.length + key.length + OVERHEAD,
        expiresAt: at + ttlMillis,
        visited: false,
      },
      at,
    )
  }

  const service: Service = {
    name: "memory",
    capabilities: { local: true, leases: false, compareAndSet: false, scripts: false },
    get: (space, key) => Effect.sync(() => read(space, key)),
    getMany: (space, keys) => Effect.sync(() => keys.map((key) => read(space, key))),
    set: (space, key, value, ttlMillis) => Effect.sync(() => write(space, key, value, ttlMillis)),
    setMany: (space, writes) =>
      Effect.sync(() => {
        for (const w of writes) write(space, w.key, w.value, w.ttlMillis)
      }),
    delete: (space, key) =>
      Effect.sync(() => {
        sieve.delete(space, key)
      }),
    increment: (space, key, by, ttlMillis) =>
      Effect.sync(() => {
        const at = now()
        const slot = sieve.get(space, key)
        const live = slot !== undefined && slot.expiresAt > at ? slot : undefined
        const count = (live === undefined ? 0 : (Entry.parseCounter(live.bytes) ?? 0)) + by
        const bytes = Entry.counterBytes(count)
        sieve.set(
          space,
          key,
          {
            bytes,
            size: bytes.length + key.length + OVERHEAD,
            expiresAt: live?.expiresAt ?? at + ttlMillis,
            visited: true,
          },
          at,
        )
        return count
      }),
    clear: (space) =>
      Effect.sync(() => {
        sieve.deleteSpace(space)
      }),
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
