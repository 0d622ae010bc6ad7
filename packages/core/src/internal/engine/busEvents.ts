/**
 * The engine's side of the bus: publishing this process's invalidations,
 * applying the ones other processes publish (drop the L1 copies, void the
 * fills in flight), waking lease waiters when a holder announces its fill,
 * and reconciling L1 on gaps: a disconnect stops trusting L1 (see
 * `l1View`), a confirmed reconnect drops it and re-reads what the store
 * caches about keyspaces.
 */
import { Deferred, Effect, Exit } from "effect"
import type { BusEvent, Service as BusService, Message } from "../../Bus.ts"
import type { Service as StoreService } from "../../Store.ts"
import type { FillGuard } from "../fillGuard.ts"
import { getOrCreate } from "../maps.ts"
import type { BusHealth, L1View } from "./l1View.ts"
import type { Telemetry } from "./telemetry.ts"

/** The bus operations the other engine parts call. */
export interface BusEvents {
  /** Publishes one message (never fails: a bus failure is reported as a `BusFailed` event). */
  readonly publish: (message: Message) => Effect.Effect<void>
  /**
   * Registers a waiter woken when another process announces a fill of the
   * key; returns the deferred and the function that unregisters it.
   */
  readonly waitForFill: (space: string, key: string) => readonly [Deferred.Deferred<void>, () => void]
  /** Keys with lease waiters: 0 at quiescence. */
  readonly waiters: () => number
  /** Handles one event from the bus. */
  readonly onEvent: (event: BusEvent) => void
}

/** Builds the bus handling; `runFork` runs store refreshes in the background. */
export const make = (
  bus: BusService | undefined,
  store: StoreService | undefined,
  l1: L1View,
  guard: FillGuard,
  health: BusHealth,
  telemetry: Telemetry,
  runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown,
): BusEvents => {
  const { counts, emit } = telemetry

  const publish = (message: Message): Effect.Effect<void> =>
    bus === undefined
      ? Effect.void
      : bus.publish([message]).pipe(
          Effect.matchEffect({
            onSuccess: () =>
              Effect.sync(() => {
                counts.busOut++
              }),
            onFailure: (error) => Effect.sync(() => emit({ _tag: "BusFailed", error })),
          }),
        )

  const waiting = new Map<string, Set<Deferred.Deferred<void>>>()
  const waiterKey = (space: string, key: string) => `${space}\u0000${key}`
  const waitForFill = (space: string, key: string) => {
    const k = waiterKey(space, key)
    const woken = Deferred.makeUnsafe<void>()
    const set = getOrCreate(waiting, k, () => new Set<Deferred.Deferred<void>>())
    set.add(woken)
    const done = () => {
      set.delete(woken)
      if (set.size === 0 && waiting.get(k) === set) waiting.delete(k)
    }
    return [woken, done] as const
  }
  const wake = (space: string, key: string) => {
    const set = waiting.get(waiterKey(space, key))
    if (set === undefined) return
    for (const deferred of set) Deferred.doneUnsafe(deferred, Exit.void)
  }

  const refresh = (spaces: ReadonlyArray<string> | "all") => {
    if (store?.refresh === undefined) return
    runFork(
      store
        .refresh(spaces)
        .pipe(
          Effect.catch((error) =>
            Effect.sync(() => emit({ _tag: "StoreFailed", keyspace: "*", operation: "refresh", error })),
          ),
        ),
    )
  }

  const onEvent = (event: BusEvent) => {
    switch (event._tag) {
      case "InvalidateKeys":
        counts.busIn++
        for (const key of event.keys) {
          l1.drop(event.space, key)
          guard.voidKey(event.space, key)
        }
        return
      case "InvalidateTag":
        counts.busIn++
        l1.tier?.learnTag(event.tag, event.version)
        guard.voidTag(event.tag)
        return
      case "ClearSpace":
        counts.busIn++
        l1.dropSpace(event.space)
        guard.voidSpace(event.space)
        refresh([event.space])
        return
      case "Filled":
        counts.busIn++
        for (const key of event.keys) wake(event.space, key)
        return
      case "Reset":
        counts.busIn++
        l1.dropEverything(`another process reset: ${event.reason}`)
        refresh("all")
        return
      case "Gap":
        if (event.connected) {
          health.down = false
          l1.dropEverything(event.reason)
          refresh("all")
        } else {
          l1.distrust(event.reason)
        }
        return
      case "Dropped":
        emit({ _tag: "BusMessageDropped", reason: event.reason })
    }
  }

  return { publish, waitForFill, waiters: () => waiting.size, onEvent }
}
