/**
 * The Redis bus: invalidations between processes over Redis pub/sub
 * (sharded pub/sub, `SPUBLISH`/`SSUBSCRIBE`, on a Cluster).
 *
 * Redis pub/sub is at-most-once: whatever is published while a subscriber is
 * away is gone, and ioredis resubscribes after a reconnect without telling
 * anyone. So the bus reports a **gap** whenever delivery may have lapsed:
 *
 * - the subscriber connection closed (a kill, a restart, Redis closing a slow
 *   subscriber at its output-buffer limit): `Gap(connected: false)`, then
 *   `Gap(connected: true)` once it is subscribed again (confirmed by a PING
 *   answered after the re-subscription);
 * - the heartbeat (a PING on the subscriber connection) went unanswered for
 *   `heartbeatTimeoutMillis` of *responsive* time: a black-holed connection
 *   stays "ready" for ever otherwise. Time the event loop spent blocked does
 *   not count, so a busy process is not mistaken for a dead link;
 * - a hole in a sender's sequence numbers.
 *
 * Messages are msgpack `{ v, node, seq, msgs }`: a batch of everything one
 * process published in one tick. A process ignores its own messages; a
 * message that does not decode or fails the schema is dropped and reported.
 * A publish that fails goes into a bounded queue, de-duplicated per key (per
 * tag, per space), and is retried; if the queue overflows, the process
 * publishes a `Reset` once it can, which makes every process drop its L1.
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { Argument, Bus, BusUnavailable, CacheMetrics, type InvalidArgument } from "@strata/core"
import { Effect, Layer, Metric } from "effect"
import type { Cluster } from "ioredis"
import * as BusEnvelope from "./internal/busEnvelope.ts"
import {
  type ConnectionOptions,
  checkConnectionOptions,
  createClient,
  onlyKnownOptions,
  socketTimeoutOf,
} from "./internal/connection.ts"
import * as Liveness from "./internal/liveness.ts"
import * as Outbox from "./internal/outbox.ts"
import { busSubscribers } from "./internal/registry.ts"
import { slotOf } from "./internal/slot.ts"
import * as Subscriber from "./internal/subscriber.ts"
import { withTimeout } from "./internal/subscriber.ts"

/** The options of {@link make} and {@link layer}. */
export interface Options extends ConnectionOptions {
  /** The pub/sub channel. Default `"strata:bus"`. Processes that share a cache share a channel. */
  readonly channel?: string | undefined
  /**
   * How often the subscriber connection is pinged, in ms. Default 100. The
   * bus's silence bound (how long a cache trusts its L1 without a sign of
   * life from the bus) is `2 × heartbeatMillis + 200`: 400 ms by default,
   * which keeps "nothing served from L1 more than 500 ms after a write
   * elsewhere" when the link is black-holed.
   */
  readonly heartbeatMillis?: number | undefined
  /**
   * A ping unanswered for this long (of responsive time), in ms, is a gap:
   * the subscriber connection is replaced. Default 2,000.
   */
  readonly heartbeatTimeoutMillis?: number | undefined
  /** Most invalidations kept for retry while publishing fails, from 1 to 10,000,000. Default 10,000. */
  readonly retryQueueLimit?: number | undefined
  /** How often queued invalidations are retried, in ms. Default 100. */
  readonly retryIntervalMillis?: number | undefined
}

/** What the bus saw, for health checks and tests. */
export interface Diagnostics {
  readonly nodeId: string
  readonly subscribed: boolean
  readonly gaps: number
  readonly published: number
  readonly received: number
  readonly dropped: number
  readonly queued: number
  readonly publishFailures: number
  /** Subscribers' handlers that threw (each is isolated: the others still get the event). */
  readonly listenerErrors: number
}

/** The Redis bus: the `Bus` operations plus diagnostics. */
export interface Service extends Bus.Service {
  readonly diagnostics: () => Diagnostics
}

/** Finds the master that serves a slot, for a Cluster subscriber. */
const nodeForSlot = async (cluster: Cluster, slot: number): Promise<{ host: string; port: number }> => {
  const shards = (await cluster.call("CLUSTER", "SLOTS")) as Array<
    [number, number, [string, number, ...Array<unknown>]]
  >
  for (const [start, end, [host, port]] of shards) {
    if (slot >= start && slot <= end) return { host, port }
  }
  throw new Error(`no Cluster node serves slot ${slot}`)
}

/** Checks the numeric options before anything connects; throws `InvalidArgument`. */
const checkOptions = (options: Options) => {
  onlyKnownOptions(options, [
    "channel",
    "heartbeatMillis",
    "heartbeatTimeoutMillis",
    "retryQueueLimit",
    "retryIntervalMillis",
  ])
  checkConnectionOptions(options)
  return {
    connectTimeout: Argument.optionalMillis("connectTimeoutMillis", options.connectTimeoutMillis, 5_000),
    heartbeatMillis: Argument.optionalMillis("heartbeatMillis", options.heartbeatMillis, 100),
    heartbeatTimeout: Argument.optionalMillis(
      "heartbeatTimeoutMillis",
      options.heartbeatTimeoutMillis,
      2_000,
    ),
    queueLimit: Argument.optionalInteger("retryQueueLimit", options.retryQueueLimit, 10_000, {
      min: 1,
      max: 10_000_000,
    }),
    retryInterval: Argument.optionalMillis("retryIntervalMillis", options.retryIntervalMillis, 100),
  }
}

const unavailableAtStart = (message: string, cause?: unknown) =>
  new BusUnavailable({ bus: "redis", message, ...(cause === undefined ? {} : { cause }) })

/**
 * Connects a publisher and a subscriber and builds the bus. Fails with
 * `InvalidArgument` for a bad numeric option, and with `BusUnavailable` if
 * the subscriber cannot connect and subscribe within the connect timeout (or
 * lacks permission for the channel: Redis 7 ACL users get no channel
 * permission unless granted `&<channel>`). Closing the scope closes both
 * connections and stops every timer; nothing reconnects after that.
 *
 * @example
 * ```ts
 * const bus = yield* RedisBus.make({ url: "redis://127.0.0.1:6379" })
 * ```
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const nodeId = randomUUID()
  const { heartbeatMillis, heartbeatTimeout, queueLimit, retryInterval, connectTimeout } = yield* Effect.try({
    try: () => checkOptions(options),
    catch: (error) => error as InvalidArgument,
  })
  const channel = options.channel ?? "strata:bus"
  if (typeof channel !== "string" || channel.length === 0)
    return yield* unavailableAtStart("the bus channel must be a non-empty string")
  const sharded = options.cluster !== undefined

  const publisher = yield* Effect.try({
    try: () => createClient(options),
    catch: (e) => unavailableAtStart(String(e), e),
  })
  publisher.on("error", () => {
    // Publish failures are handled per batch (queued for retry); connection errors are expected while Redis is down.
  })
  yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => withTimeout(publisher.connect(), connectTimeout, "connect the bus publisher"),
      catch: (e) => {
        publisher.disconnect()
        return unavailableAtStart(`could not connect the bus publisher: ${(e as Error).message}`, e)
      },
    }),
    () => Effect.sync(() => publisher.disconnect()),
  )

  const context = yield* Effect.context<never>()
  const lag = Metric.withAttributes(CacheMetrics.busLag, { bus: channel })
  let gaps = 0
  let received = 0
  let dropped = 0
  let listenerErrors = 0
  const sequences = BusEnvelope.sequenceCheck()
  const listeners = new Set<(event: Bus.BusEvent) => void>()
  // Each listener is isolated: one that throws must not stop the others, nor reach ioredis's event handlers.
  const deliver = (event: Bus.BusEvent) => {
    for (const listener of listeners) {
      try {
        listener(event)
      } catch {
        // Counted in the diagnostics; the cache's own handler isolates its listeners and never throws.
        listenerErrors++
      }
    }
  }
  const gap = (reason: string, connected: boolean) => {
    gaps++
    // After a gap every sender's sequence starts over as far as this subscriber knows.
    sequences.reset()
    deliver({ _tag: "Gap", reason, connected })
  }
  const onPayload = (payload: Buffer) => {
    const decoded = BusEnvelope.decode(payload, nodeId)
    if (decoded._tag === "Own") return
    if (decoded._tag === "Dropped") {
      dropped++
      deliver(decoded)
      return
    }
    if (decoded.at !== undefined) lag.updateUnsafe(Math.max(0, Date.now() - decoded.at), context)
    const previous = sequences.observe(decoded.node, decoded.seq)
    if (previous !== undefined)
      gap(`sequence gap from node ${decoded.node}: ${previous} then ${decoded.seq}`, true)
    received += decoded.messages.length
    for (const message of decoded.messages) deliver(message)
  }

  // No socket timeout on the subscriber: it is blind to a blocked event loop; the lag-aware heartbeat is not.
  const subscriberConnection: ConnectionOptions = sharded
    ? {
        ...options,
        socketTimeoutMillis: 0,
        cluster: undefined,
        redis: {
          ...options.cluster?.options?.redisOptions,
          ...(yield* Effect.tryPromise({
            try: () => nodeForSlot(publisher as Cluster, slotOf(channel)),
            catch: (e) =>
              unavailableAtStart(
                `could not find the Cluster node of the bus channel: ${(e as Error).message}`,
                e,
              ),
          })),
        },
      }
    : { ...options, socketTimeoutMillis: 0 }
  const subscriber = yield* Subscriber.make({
    connection: subscriberConnection,
    channel,
    sharded,
    heartbeatMillis,
    heartbeatTimeoutMillis: heartbeatTimeout,
    connectTimeoutMillis: connectTimeout,
    onPayload,
    onGap: gap,
  })
  const liveness = yield* Liveness.make(publisher, socketTimeoutOf(options))
  const outbox = yield* Outbox.make({
    publisher,
    channel,
    sharded,
    nodeId,
    queueLimit,
    retryIntervalMillis: retryInterval,
    liveness,
  })

  const service: Service = {
    name: "redis",
    publish: (messages) => Effect.sync(() => outbox.publish(messages)),
    subscribe: (onEvent) =>
      Effect.acquireRelease(
        Effect.sync(() => listeners.add(onEvent)),
        () => Effect.sync(() => listeners.delete(onEvent)),
      ),
    diagnostics: () => ({
      nodeId,
      subscribed: subscriber.subscribed(),
      gaps,
      published: outbox.published(),
      received,
      dropped,
      queued: outbox.queued(),
      publishFailures: outbox.failures(),
      listenerErrors,
    }),
    lastHeard: subscriber.lastHeard,
    // A healthy subscription answers a ping every heartbeat; two missed beats and a margin is silence.
    silenceBoundMillis: 2 * heartbeatMillis + 200,
  }
  busSubscribers.set(service, subscriber.current)
  return service
})

/**
 * A layer providing the Redis bus as the `Bus` service.
 *
 * @example
 * ```ts
 * const redis = { url: "redis://127.0.0.1:6379" }
 * const Live = Cache.layer({ l2: RedisStore.layer(redis), bus: RedisBus.layer(redis) })
 * ```
 */
export const layer = (options: Options): Layer.Layer<Bus.Bus, BusUnavailable | InvalidArgument> =>
  Layer.effect(Bus.Bus, make(options))
