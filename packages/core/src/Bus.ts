/**
 * The contract of a bus: how a process tells the others that entries changed,
 * so they drop their in-process (L1) copies. A bus is at-most-once by nature
 * (Redis pub/sub loses what is published while a subscriber is away), so a
 * bus must also report *gaps*: any moment after which it cannot promise that
 * every invalidation was delivered (a reconnect, a failed heartbeat, a
 * sequence hole). On a gap the engine drops its L1 before serving from it
 * again.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Schema, type Scope } from "effect"
import type { BusUnavailable } from "./Errors.ts"

/** Entries of one space were written or deleted: drop these keys. */
export const InvalidateKeys = Schema.TaggedStruct("InvalidateKeys", {
  space: Schema.String,
  keys: Schema.Array(Schema.String),
})

/** A tag was invalidated: entries carrying it with an older version are dead. */
export const InvalidateTag = Schema.TaggedStruct("InvalidateTag", {
  tag: Schema.String,
  version: Schema.Int,
})

/** A whole space (keyspace) was cleared. */
export const ClearSpace = Schema.TaggedStruct("ClearSpace", {
  space: Schema.String,
})

/** One invalidation carried by the bus. */
export const Invalidation = Schema.Union([InvalidateKeys, InvalidateTag, ClearSpace])
export type Invalidation = typeof Invalidation.Type

/** The bus may have missed messages; `reason` says why (for events and logs). */
export interface Gap {
  readonly _tag: "Gap"
  readonly reason: string
}

/** What a subscriber receives: invalidations from other processes, and gaps. */
export type BusEvent = Invalidation | Gap

/** The operations every bus provides. */
export interface Service {
  readonly name: string
  /** Broadcasts invalidations to every other process; a process never receives its own. */
  readonly publish: (invalidations: ReadonlyArray<Invalidation>) => Effect.Effect<void, BusUnavailable>
  /**
   * Delivers every invalidation from other processes, and a `Gap` whenever
   * delivery may have lapsed, to `onEvent` until the scope closes.
   */
  readonly subscribe: (onEvent: (event: BusEvent) => void) => Effect.Effect<void, never, Scope.Scope>
}

/**
 * The `Bus` service. Provide it with a driver's layer, such as
 * `RedisBus.layer(...)`.
 */
export class Bus extends Context.Service<Bus, Service>()("@strata/core/Bus") {}
