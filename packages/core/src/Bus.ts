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

/**
 * A process filled these keys of a space in L2 (after holding their lease):
 * processes waiting for the lease read them now instead of polling.
 */
export const Filled = Schema.TaggedStruct("Filled", {
  space: Schema.String,
  keys: Schema.Array(Schema.String),
})

/**
 * Everything in L1 may be stale: a process could not deliver some of its
 * invalidations (its retry queue overflowed while it was cut off).
 */
export const Reset = Schema.TaggedStruct("Reset", {
  reason: Schema.String,
})

/** One message carried by the bus. */
export const Message = Schema.Union([InvalidateKeys, InvalidateTag, ClearSpace, Filled, Reset])
export type Message = typeof Message.Type

/** A message that makes L1 copies stale (every message but `Filled`). */
export type Invalidation = Exclude<Message, { readonly _tag: "Filled" }>

/**
 * The bus may have missed messages. `connected: false`: delivery is down
 * now (the cache bounds L1 staleness until it is back); `connected: true`:
 * delivery is back after a lapse. `reason` says why, for events and logs.
 */
export interface Gap {
  readonly _tag: "Gap"
  readonly reason: string
  readonly connected: boolean
}

/** A message arrived that could not be read (malformed, unknown, from a newer format); it was dropped. */
export interface Dropped {
  readonly _tag: "Dropped"
  readonly reason: string
}

/** What a subscriber receives: messages from other processes, gaps, and dropped messages. */
export type BusEvent = Message | Gap | Dropped

/** The operations every bus provides. */
export interface Service {
  readonly name: string
  /**
   * Broadcasts messages to every other process; a process never receives its
   * own. A bus that cannot send now may queue the messages and retry; it
   * fails only when it cannot even do that.
   */
  readonly publish: (messages: ReadonlyArray<Message>) => Effect.Effect<void, BusUnavailable>
  /**
   * Delivers every message from other processes, and a `Gap` whenever
   * delivery may have lapsed, to `onEvent` until the scope closes.
   */
  readonly subscribe: (onEvent: (event: BusEvent) => void) => Effect.Effect<void, never, Scope.Scope>
  /**
   * When the subscription last showed a sign of life (a message, a heartbeat
   * reply), as `performance.now()`; with `silenceBoundMillis`, how long a
   * healthy bus may stay silent. A cache does not trust its L1 while the bus
   * has been silent for longer: a blocked event loop or a dead link may be
   * hiding invalidations. `undefined` for buses that cannot tell.
   */
  readonly lastHeard?: (() => number) | undefined
  readonly silenceBoundMillis?: number | undefined
}

/**
 * The `Bus` service. Provide it with a driver's layer, such as
 * `RedisBus.layer(...)`.
 */
export class Bus extends Context.Service<Bus, Service>()("@strata/core/Bus") {}
