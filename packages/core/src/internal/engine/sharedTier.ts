/**
 * The engine's access to the shared tier (L2): every call goes through the
 * circuit breaker (fail fast while the tier is down, reconcile L1 when it
 * comes back), is counted, and runs in a span when spans are on. Bytes read
 * are accepted here: undecodable ones are dropped and reported, dead entries
 * and entries whose tags were invalidated are misses, and accepted entries
 * fill L1 if their fill ticket still holds.
 */
import { Cause, Effect, Exit, Result } from "effect"
import * as Entry from "../../Entry.ts"
import { type StoreError, StoreUnavailable } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import type { LeaseResult, Service as StoreService, VersionedValue } from "../../Store.ts"
import { Circuit, type CircuitState } from "../circuit.ts"
import type { Ticket } from "../fillGuard.ts"
import type { Config } from "./config.ts"
import { type L1View, MISS, type StaleValue, staleValueOf } from "./l1View.ts"
import type { Telemetry } from "./telemetry.ts"

/** The internal space that holds tag versions in the shared tier. */
export const TAGS_SPACE = "_tags"

/** What an L2 read found: the fresh value (or `MISS`), a stale one, and the key's version for a later fill. */
export interface L2Read {
  readonly fresh: unknown
  readonly stale: StaleValue | undefined
  readonly version: number | undefined
}

/** A read that found nothing (or could not read): a miss at `version`. */
export const noRead = (version: number | undefined): L2Read => ({ fresh: MISS, stale: undefined, version })

/** The shared-tier operations the other engine parts call. */
export interface SharedTier {
  readonly store: StoreService | undefined
  readonly circuitState: () => CircuitState
  /** Runs one L2 call through the breaker, the counters and a span. */
  readonly via: <A>(operation: string, effect: Effect.Effect<A, StoreError>) => Effect.Effect<A, StoreError>
  /** The versions of `tags` now: from L2 (the authority) when there is one, else from L1. */
  readonly tagVersions: (
    tags: ReadonlyArray<string> | undefined,
  ) => Effect.Effect<Entry.TagVersions | undefined, StoreError>
  /**
   * Checks bytes read from L2. The common case (decodes, alive, untagged) is
   * answered synchronously; an effect is returned only when the answer needs
   * I/O (dropping bad bytes, reading tag versions).
   */
  readonly accept: <K, V>(
    keyspace: Keyspace<K, V>,
    storeKey: string,
    bytes: Uint8Array | undefined,
  ) => Entry.Entry<V> | undefined | Effect.Effect<Entry.Entry<V> | undefined, StoreError>
  /** Reads the keys with their versions, in one round trip; a failing tier reads as misses (reported). */
  readonly readMany: (
    keyspace: Keyspace<any, any>,
    storeKeys: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<VersionedValue>>
  /**
   * `via` for a Promise call, or `undefined` when spans are on (a span
   * needs the effect): the breaker and the counters, no Effect run.
   */
  readonly viaPromise: (<A>(operation: string, call: () => Promise<A>) => Promise<A>) | undefined
  /**
   * `readThrough` as a Promise (breaker and counters included), or
   * `undefined` where it does not apply: spans on, fills unguarded, or a
   * store without `versioned.getPromise`. Rejects with the store's typed error.
   */
  readonly readThroughPromise:
    | (<K, V>(keyspace: Keyspace<K, V>, storeKey: string, ticket: Ticket) => Promise<L2Read>)
    | undefined
  /** Reads a key from L2 (with its version when fills are guarded) and fills L1 from it if the ticket holds. */
  readonly readThrough: <K, V>(
    keyspace: Keyspace<K, V>,
    storeKey: string,
    ticket: Ticket,
  ) => Effect.Effect<L2Read, StoreError>
  /**
   * `readThrough` that also takes the key's lease when it holds no value, in
   * one round trip (the store must offer `leases.readOrAcquire`).
   */
  readonly readOrAcquire: <K, V>(
    keyspace: Keyspace<K, V>,
    storeKey: string,
    ticket: Ticket,
    ttlMillis: number,
  ) => Effect.Effect<{ readonly read: L2Read; readonly lease: LeaseResult | undefined }, StoreError>
  /** Reports a store failure on a path that goes on without the store, and answers `fallback`. */
  readonly recover: <A>(
    keyspace: Keyspace<any, any>,
    operation: string,
    fallback: A,
  ) => (error: StoreError) => Effect.Effect<A>
}

/** Builds the shared-tier access; `traced` wraps an effect in a span when spans are on. */
export const make = (
  config: Config,
  store: StoreService | undefined,
  l1: L1View,
  telemetry: Telemetry,
  monoNow: () => number,
  wallNow: () => number,
  traced: <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    span: string,
    attributes: Record<string, string>,
  ) => Effect.Effect<A, E, R>,
  spans: boolean,
): SharedTier => {
  const { counts, emit } = telemetry
  let lastCircuit: CircuitState = "closed"
  const circuit =
    store === undefined || config.circuit === undefined
      ? undefined
      : new Circuit(config.circuit.failures, config.circuit.cooldown, monoNow, (state) => {
          emit({ _tag: "CircuitChanged", state })
          // Invalidations may have been missed while the tier was unreachable: reconcile L1.
          if (state === "closed" && lastCircuit !== "closed")
            l1.dropEverything("the shared tier is reachable again")
          lastCircuit = state
        })

  const circuitOpen = (operation: string) =>
    new StoreUnavailable({
      store: store?.name ?? "none",
      operation,
      reason: "circuit-open",
      message: "the shared tier failed repeatedly (circuit open); calls resume after the cooldown",
    })

  const via = <A>(operation: string, effect: Effect.Effect<A, StoreError>): Effect.Effect<A, StoreError> =>
    Effect.suspend(() => {
      if (circuit !== undefined && !circuit.allow()) return Effect.fail(circuitOpen(operation))
      return effect.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) circuit?.success()
            else if (Cause.hasFails(exit.cause)) failed()
            else circuit?.failure()
          }),
        ),
        // No stack trace per span: capturing one costs more than the rest of an L2 hit's bookkeeping.
        (self) => traced(self, `strata.l2.${operation}`, { "strata.cache": config.name }),
      )
    })

  const tagVersions = (tags: ReadonlyArray<string> | undefined) =>
    Effect.suspend((): Effect.Effect<Entry.TagVersions | undefined, StoreError> => {
      if (tags === undefined || tags.length === 0) return Effect.succeed(undefined)
      if (store === undefined) {
        const out: Array<string | number> = []
        for (const tag of tags) out.push(tag, l1.tier?.tags.get(tag) ?? 0)
        return Effect.succeed(out)
      }
      return Effect.map(via("tags", store.getMany(TAGS_SPACE, tags)), (stored) => {
        const out: Array<string | number> = []
        for (let i = 0; i < tags.length; i++) {
          const bytes = stored[i]
          const version = bytes === undefined ? 0 : (Entry.parseCounter(bytes) ?? 0)
          l1.tier?.learnTag(tags[i]!, version)
          out.push(tags[i]!, version)
        }
        return out
      })
    })

  /** Whether an entry's tag versions are still current in L2 (the authority). */
  const tagsCurrent = (versions: Entry.TagVersions): Effect.Effect<boolean, StoreError> => {
    const tags: Array<string> = []
    for (let i = 0; i < versions.length; i += 2) tags.push(versions[i] as string)
    return Effect.map(tagVersions(tags), (current) => {
      for (let i = 1; i < versions.length; i += 2) if (current![i] !== versions[i]) return false
      return true
    })
  }

  const accept: SharedTier["accept"] = (keyspace, storeKey, bytes) => {
    if (bytes === undefined) return undefined
    const entry = Entry.decode(keyspace, bytes)
    if (Result.isFailure(entry)) {
      emit({ _tag: "EntryDropped", keyspace: keyspace.id, key: storeKey, tier: "l2", reason: entry.failure })
      return Effect.as(via("delete", store!.delete(keyspace.id, storeKey)), undefined)
    }
    const e = entry.success
    if (e.staleUntil <= wallNow()) return undefined
    if (e.tagVersions === undefined) return e
    return Effect.map(tagsCurrent(e.tagVersions), (current) => (current ? e : undefined))
  }

  /** What an accepted entry (or none) means for a caller: filled into L1 if the ticket holds, fresh or stale. */
  const finisher =
    (
      keyspace: Keyspace<any, any>,
      storeKey: string,
      ticket: Ticket,
      bytes: Uint8Array | undefined,
      read: number,
    ) =>
    (entry: Entry.Entry<any> | undefined): L2Read => {
      const version = Number.isNaN(read) ? undefined : read
      if (entry === undefined) return noRead(version)
      const value = l1.fill(
        keyspace,
        storeKey,
        entry.value,
        bytes!,
        entry.freshUntil,
        entry.staleUntil,
        entry.tagVersions,
        ticket,
      )
      const wall = wallNow()
      if (entry.freshUntil > wall) {
        counts.hitsL2++
        return { fresh: value, stale: undefined, version }
      }
      return { fresh: MISS, stale: staleValueOf(value, entry, monoNow(), wall), version }
    }

  /** What a versioned read means for a caller: accepted, filled into L1 if the ticket holds, fresh or stale. */
  const finishRead = (
    keyspace: Keyspace<any, any>,
    storeKey: string,
    ticket: Ticket,
    { value: bytes, version: read }: VersionedValue,
  ): Effect.Effect<L2Read, StoreError> => {
    const finish = finisher(keyspace, storeKey, ticket, bytes, read)
    const accepted = accept(keyspace, storeKey, bytes)
    return Effect.isEffect(accepted) ? Effect.map(accepted, finish) : Effect.succeed(finish(accepted))
  }

  /** The breaker's and the counters' part of an L2 call that failed. */
  const failed = () => {
    counts.l2Errors++
    circuit?.failure()
  }

  const viaPromise: SharedTier["viaPromise"] = spans
    ? undefined
    : async (operation, call) => {
        if (circuit !== undefined && !circuit.allow()) throw circuitOpen(operation)
        let result: Awaited<ReturnType<typeof call>>
        try {
          result = await call()
        } catch (error) {
          failed()
          throw error
        }
        circuit?.success()
        return result
      }

  const getPromise = config.fillGuards ? store?.versioned?.getPromise : undefined
  const readThroughPromise: SharedTier["readThroughPromise"] =
    getPromise === undefined || viaPromise === undefined
      ? undefined
      : async (keyspace, storeKey, ticket) => {
          const found = await viaPromise("get", () => getPromise(keyspace.id, storeKey))
          const finish = finisher(keyspace, storeKey, ticket, found.value, found.version)
          const accepted = accept(keyspace, storeKey, found.value)
          if (!Effect.isEffect(accepted)) return finish(accepted)
          // Dropped bytes or tag versions to read: rare, and taken through the effect.
          const exit = await Effect.runPromiseExit(Effect.map(accepted, finish))
          if (Exit.isSuccess(exit)) return exit.value
          throw Cause.squash(exit.cause)
        }

  const readThrough: SharedTier["readThrough"] = (keyspace, storeKey, ticket) => {
    if (store === undefined) return Effect.succeed(noRead(undefined))
    const versioned = config.fillGuards ? store.versioned : undefined
    const read: Effect.Effect<VersionedValue, StoreError> =
      versioned === undefined
        ? Effect.map(store.get(keyspace.id, storeKey), (value) => ({ value, version: Number.NaN }))
        : versioned.get(keyspace.id, storeKey)
    return Effect.flatMap(via("get", read), (found) => finishRead(keyspace, storeKey, ticket, found))
  }

  const readOrAcquire: SharedTier["readOrAcquire"] = (keyspace, storeKey, ticket, ttlMillis) =>
    Effect.flatMap(
      via("get", store!.leases!.readOrAcquire!(keyspace.id, storeKey, ttlMillis)),
      ({ read, lease }) =>
        Effect.map(finishRead(keyspace, storeKey, ticket, read), (found) => ({ read: found, lease })),
    )

  const readMany: SharedTier["readMany"] = (keyspace, storeKeys) => {
    const misses = () => storeKeys.map((): VersionedValue => ({ value: undefined, version: Number.NaN }))
    if (store === undefined) return Effect.succeed(misses())
    const read: Effect.Effect<ReadonlyArray<VersionedValue>, StoreError> = store.versioned !== undefined
      ? store.versioned.getMany(keyspace.id, storeKeys)
      : Effect.map(store.getMany(keyspace.id, storeKeys), (values) =>
          values.map((value) => ({ value, version: Number.NaN })),
        )
    return via("getMany", read).pipe(Effect.catch((error) => recover(keyspace, "getMany", misses())(error)))
  }

  const recover =
    <A>(keyspace: Keyspace<any, any>, operation: string, fallback: A) =>
    (error: StoreError) =>
      Effect.sync(() => {
        // While the circuit is open every call fails the same way; one CircuitChanged event said so.
        if (!(error._tag === "StoreUnavailable" && error.reason === "circuit-open")) {
          emit({ _tag: "StoreFailed", keyspace: keyspace.id, operation, error })
        }
        return fallback
      })

  return {
    store,
    circuitState: () => circuit?.state ?? "closed",
    via,
    tagVersions,
    accept,
    readThrough,
    readThroughPromise,
    viaPromise,
    readMany,
    readOrAcquire,
    recover,
  }
}
