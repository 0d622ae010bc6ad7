/**
 * An in-process bus: several caches in one process (tests, simulations)
 * share a hub and see each other's invalidations, as processes do over
 * Redis. A hub can route every delivery through a scheduler, so tests decide
 * when each message arrives, duplicate it or drop it.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Schema } from "effect"
import { Bus, type BusEvent, Message, type Service } from "./Bus.ts"
import { getOrCreate } from "./internal/maps.ts"

const isMessage = Schema.is(Message)

/** A delivery: run it to hand the event to its subscriber. */
export type Deliver = (deliver: () => void, event: BusEvent, to: string) => void

/** Subscribers of one shared bus. */
export interface Hub {
  /** Registers a node; returns its bus. */
  readonly node: (nodeId: string) => Service
  /** Sends a gap to every subscriber (as a lost connection would). */
  readonly gap: (reason: string, connected: boolean) => void
  /** Cuts one node's subscription: a gap (`connected: false`), then one with `connected: true`. */
  readonly cut: (nodeId: string) => void
  /**
   * Puts a payload on the bus as a foreign writer would: a valid message is
   * delivered to every node, anything else is reported to every node as
   * `Dropped`.
   */
  readonly forge: (payload: unknown) => void
  /** Messages published so far, for assertions. */
  readonly published: ReadonlyArray<{ readonly from: string; readonly message: Message }>
  /** Listeners that threw (each isolated). */
  readonly listenerErrors: () => number
}

/**
 * Makes a hub. By default messages are delivered synchronously on publish;
 * `deliver` takes over each delivery (a test scheduler, a delay, a drop).
 *
 * @example
 * ```ts
 * const hub = MemoryBus.hub()
 * const nodeA = Cache.layer({ l2: sharedStore, bus: MemoryBus.layer(hub, "a") })
 * ```
 */
export const hub = (deliver: Deliver = (run) => run()): Hub => {
  const subscribers = new Map<string, Set<(event: BusEvent) => void>>()
  const published: Array<{ from: string; message: Message }> = []
  const sendTo = (nodeId: string, event: BusEvent) => {
    for (const listener of subscribers.get(nodeId) ?? []) {
      deliver(
        () => {
          // Isolated, as on a real bus: one listener's error reaches neither the publisher nor the others.
          try {
            listener(event)
          } catch {
            listenerErrors++
          }
        },
        event,
        nodeId,
      )
    }
  }
  const send = (from: string | undefined, event: BusEvent) => {
    for (const nodeId of subscribers.keys()) if (nodeId !== from) sendTo(nodeId, event)
  }
  let listenerErrors = 0
  return {
    node: (nodeId) => ({
      name: "memory",
      publish: (messages) =>
        Effect.sync(() => {
          for (const message of messages) {
            published.push({ from: nodeId, message })
            send(nodeId, message)
          }
        }),
      subscribe: (onEvent) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            getOrCreate(subscribers, nodeId, () => new Set()).add(onEvent)
          }),
          () => Effect.sync(() => subscribers.get(nodeId)?.delete(onEvent)),
        ),
    }),
    gap: (reason, connected) => send(undefined, { _tag: "Gap", reason, connected }),
    cut: (nodeId) => {
      sendTo(nodeId, { _tag: "Gap", reason: "the subscription was cut", connected: false })
      sendTo(nodeId, { _tag: "Gap", reason: "the subscription is back", connected: true })
    },
    forge: (payload) =>
      send(undefined, isMessage(payload) ? payload : { _tag: "Dropped", reason: "malformed bus message" }),
    published,
    listenerErrors: () => listenerErrors,
  }
}

/** A layer providing one node's view of a hub as the `Bus` service. */
export const layer = (shared: Hub, nodeId: string): Layer.Layer<Bus> =>
  Layer.succeed(Bus, shared.node(nodeId))
