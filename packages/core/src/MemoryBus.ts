/**
 * An in-process bus: several caches in one process (tests, simulations)
 * share a hub and see each other's invalidations, as processes do over
 * Redis. A hub can route every delivery through a scheduler, so tests decide
 * when each message arrives, duplicate it or drop it.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { Bus, type BusEvent, type Message, type Service } from "./Bus.ts"
import { getOrCreate } from "./internal/maps.ts"

/** A delivery: run it to hand the event to its subscriber. */
export type Deliver = (deliver: () => void, event: BusEvent, to: string) => void

/** Subscribers of one shared bus. */
export interface Hub {
  /** Registers a node; returns its bus. */
  readonly node: (nodeId: string) => Service
  /** Sends a gap to every subscriber (as a lost connection would). */
  readonly gap: (reason: string, connected: boolean) => void
  /** Messages published so far, for assertions. */
  readonly published: ReadonlyArray<{ readonly from: string; readonly message: Message }>
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
  const send = (from: string | undefined, event: BusEvent) => {
    for (const [nodeId, listeners] of subscribers) {
      if (nodeId === from) continue
      for (const listener of listeners) deliver(() => listener(event), event, nodeId)
    }
  }
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
    published,
  }
}

/** A layer providing one node's view of a hub as the `Bus` service. */
export const layer = (shared: Hub, nodeId: string): Layer.Layer<Bus> =>
  Layer.succeed(Bus, shared.node(nodeId))
