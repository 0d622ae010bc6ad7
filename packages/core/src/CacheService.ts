/**
 * The operations of a cache (the `Cache` service's shape), its loaders and
 * its stats snapshot. Built by `Cache.make`; see `Cache.ts` for how.
 *
 * @since 0.1.0
 */
import type { Effect, Option, Stream } from "effect"
import type { CacheEvent } from "./CacheEvent.ts"
import type { LoadOptions, WriteOptions } from "./CacheOptions.ts"
import type {
  CacheClosed,
  EntryTooLarge,
  InvalidArgument,
  InvalidDuration,
  InvalidKey,
  InvalidValue,
  LoaderCycle,
  LoaderFailed,
  StoreError,
  Timeout,
  UpdateConflict,
} from "./Errors.ts"
import type { CircuitState } from "./internal/circuit.ts"
import type { Counts } from "./internal/engine/telemetry.ts"
import type { Counter, Keyspace } from "./Keyspace.ts"

/** A loader: an effect, or a function of the key returning one. */
export type Loader<K, V, E, R> = Effect.Effect<V, E, R> | ((key: K) => Effect.Effect<V, E, R>)

/**
 * What a cache did since it started: every counter of the telemetry table
 * (`hitsL1`, `hitsL2`, `misses`, `loads`, ..., each documented there), plus
 * the state of its parts now.
 */
export interface Stats extends Readonly<Counts> {
  readonly circuit: CircuitState
  readonly l1Entries: number
  readonly l1Bytes: number
  /** Fills (loads and L2 reads) in flight: 0 at quiescence. */
  readonly fillsInFlight: number
  /** Loads in flight in this process (one per key): 0 at quiescence. */
  readonly flightsInProgress: number
  /** Keys whose loads wait for another process's lease: 0 at quiescence. */
  readonly leaseWaiters: number
}

/**
 * How `getOrSet` and `getOrSetMany` fail: the loader's own `E`, their inputs
 * (`InvalidKey`, `InvalidValue`, `EntryTooLarge`, `InvalidDuration`,
 * `InvalidArgument`), a hard timeout (`Timeout`), a loader cycle
 * (`LoaderCycle`) or a closed cache (`CacheClosed`). Store failures are not
 * among them: a failing shared tier is a miss and the loader runs.
 */
export type LoadError<E> =
  | E
  | InvalidKey
  | InvalidValue
  | EntryTooLarge
  | InvalidDuration
  | InvalidArgument
  | Timeout
  | LoaderCycle
  | CacheClosed

/**
 * How `update` fails: its inputs (`InvalidKey`, `InvalidValue`,
 * `EntryTooLarge`, `InvalidDuration`, `InvalidArgument`), `f` throwing
 * (`LoaderFailed`), repeated conflicts (`UpdateConflict`), the shared tier
 * (`StoreError`) or a closed cache (`CacheClosed`).
 */
export type UpdateError =
  | InvalidKey
  | InvalidValue
  | EntryTooLarge
  | InvalidDuration
  | InvalidArgument
  | LoaderFailed
  | UpdateConflict
  | StoreError
  | CacheClosed

/**
 * The cache's operations. Every method is typed by the keyspace it is given:
 * keys and values are checked against the keyspace's types, never used to
 * infer them (`NoInfer`), so a literal such as `{ plan: "pro" }` is checked
 * against `"free" | "pro"` instead of widening the type to `string`.
 */
export interface Service {
  /**
   * The fresh value under `key`, from L1 or L2, or `None`. Never calls a
   * loader. A failing shared tier is a miss (see `l2ReadErrors`).
   */
  readonly get: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
  ) => Effect.Effect<Option.Option<V>, InvalidKey | StoreError | CacheClosed>
  /**
   * The fresh value under `key`; on a miss, runs `loader` once for all
   * concurrent callers in this process (and, with leases, once across
   * processes), stores its value and returns it. A failed load is not cached;
   * a stale value inside its grace window is served instead of a failure or
   * after a soft timeout. Store failures on this path are recovered from
   * (reported as `StoreFailed` events). A loader asking for a key whose load
   * waits on it fails with `LoaderCycle`.
   */
  readonly getOrSet: <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
    loader: Loader<NoInfer<K>, NoInfer<V>, E, R>,
    options?: LoadOptions,
  ) => Effect.Effect<V, LoadError<E>, R>
  /**
   * The fresh values of many keys, in order; on misses, calls `loadMany`
   * **once** with every key this process must load (after L1, and L2 in one
   * round trip), stores each row and returns it. A row `loadMany` returns as
   * `undefined` is not found: `None`, not cached. Keys in flight are joined;
   * with leases, keys another process is loading are waited for. Fails with
   * `InvalidValue` when `loadMany` returns a different number of rows than
   * keys (nothing is stored).
   */
  readonly getOrSetMany: <K, V, E, R>(
    keyspace: Keyspace<K, V>,
    keys: ReadonlyArray<NoInfer<K>>,
    loadMany: (keys: ReadonlyArray<NoInfer<K>>) => Effect.Effect<ReadonlyArray<NoInfer<V> | undefined>, E, R>,
    options?: LoadOptions,
  ) => Effect.Effect<ReadonlyArray<Option.Option<V>>, LoadError<E>, R>
  /** Stores `value` under `key` (L2, then L1, then the bus). */
  readonly set: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
    value: NoInfer<V>,
    options?: WriteOptions,
  ) => Effect.Effect<
    void,
    InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | InvalidArgument | StoreError | CacheClosed
  >
  /**
   * Replaces the value under `key` with `f(current)` atomically: `current` is
   * the fresh value the authoritative tier holds (or `undefined`), and no
   * concurrent write is lost (optimistic compare-and-set on the shared tier,
   * retried on conflict; see `UPDATE_ATTEMPTS`). `f` must be pure: it may run
   * more than once; returning `current` itself writes nothing. Returns the
   * value now stored. Fails with `UpdateConflict` after repeated conflicts,
   * `LoaderFailed` when `f` throws, and `InvalidArgument` when the shared
   * tier cannot compare and set.
   */
  readonly update: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
    f: (current: NoInfer<V> | undefined) => NoInfer<V>,
    options?: WriteOptions,
  ) => Effect.Effect<V, UpdateError>
  /** Removes `key` (L2, then L1, then the bus). */
  readonly delete: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
  ) => Effect.Effect<void, InvalidKey | StoreError | CacheClosed>
  /** `get` for many keys, in order; one L2 round trip for all L1 misses. */
  readonly getMany: <K, V>(
    keyspace: Keyspace<K, V>,
    keys: ReadonlyArray<NoInfer<K>>,
  ) => Effect.Effect<ReadonlyArray<Option.Option<V>>, InvalidKey | InvalidArgument | StoreError | CacheClosed>
  /** `set` for many entries. Every key and value is validated before anything is written. */
  readonly setMany: <K, V>(
    keyspace: Keyspace<K, V>,
    entries: ReadonlyArray<readonly [NoInfer<K>, NoInfer<V>]>,
    options?: WriteOptions,
  ) => Effect.Effect<
    void,
    InvalidKey | InvalidValue | EntryTooLarge | InvalidDuration | InvalidArgument | StoreError | CacheClosed
  >
  /** Makes every entry carrying `tag` a miss from now on, in every process. */
  readonly invalidateTag: (tag: string) => Effect.Effect<void, InvalidArgument | StoreError | CacheClosed>
  /** Removes every entry of a keyspace, in every process. */
  readonly clear: <K, V>(keyspace: Keyspace<K, V>) => Effect.Effect<void, StoreError | CacheClosed>
  /**
   * Adds `by` (a safe integer, default 1; negative subtracts) to a counter
   * atomically and returns the new count. Fails with `InvalidArgument`
   * before any I/O for any other `by`, and when the count would leave
   * ±(2^53 − 1).
   */
  readonly increment: <K>(
    counter: Counter<K>,
    key: NoInfer<K>,
    by?: number,
  ) => Effect.Effect<number, InvalidKey | InvalidArgument | StoreError | CacheClosed>
  /**
   * Synchronous L1-only read: the fresh value, or `undefined` on a miss
   * (including a value only L2 holds). Throws `InvalidKey`. This is the hot
   * path the Promise facade uses before it runs any effect.
   */
  readonly peekUnsafe: <K, V>(keyspace: Keyspace<K, V>, key: NoInfer<K>) => V | undefined
  /**
   * `set` as a Promise, without an Effect run, for the Promise facade:
   * `undefined` when that path does not apply (spans on, a store without
   * `setPromise`, a tagged keyspace, per-call `options`, input `set` would
   * refuse, a closed cache), and then `set` answers. Rejects with
   * `StoreUnavailable` or `Timeout`.
   */
  readonly setPromiseUnsafe: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
    value: NoInfer<V>,
    options: WriteOptions | undefined,
  ) => Promise<void> | undefined
  /**
   * The Promise facade's `get`, with the key encoded once: the fresh L1
   * value itself; else a Promise of the L2 read without an Effect run; else
   * `undefined` when that path does not apply (spans on, a store without
   * Promise reads, a tagged key whose tags cannot be read), and then `get`
   * answers. Throws `InvalidKey` and, once closed, `CacheClosed`. The
   * Promise resolves to the value or `undefined` (a miss, or a failing
   * shared tier read as one: `StoreFailed`); it rejects with
   * `StoreUnavailable` or `Timeout` only under `l2ReadErrors: "fail"`.
   */
  readonly getUnsafe: <K, V>(
    keyspace: Keyspace<K, V>,
    key: NoInfer<K>,
  ) => V | Promise<V | undefined> | undefined
  /** A snapshot of the counters (also pushes them into the Effect metrics). */
  readonly stats: () => Stats
  /** Every event the cache reports, from subscription on. */
  readonly events: Stream.Stream<CacheEvent>
  /** Registers a listener for events; returns the function that removes it. */
  readonly onEvent: (listener: (event: CacheEvent) => void) => () => void
}
