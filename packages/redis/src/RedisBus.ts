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
import { Bus, BusUnavailable, Msgpack } from "@strata/core"
import { Effect, Layer, Result, Schema } from "effect"
import type { Cluster, Redis } from "ioredis"
import { type ConnectionOptions, createClient } from "./internal/connection.ts"
import { slotOf } from "./internal/slot.ts"

/** The options of {@link make} and {@link layer}. */
export interface Options extends ConnectionOptions {
  /** The pub/sub channel. Default `"strata:bus"`. Processes that share a cache share a channel. */
  readonly channel?: string | undefined
  /** How often the subscriber connection is pinged. Default 1,000 ms. */
  readonly heartbeatMillis?: number | undefined
  /** A ping unanswered for this long (of responsive time) is a gap. Default 2,000 ms. */
  readonly heartbeatTimeoutMillis?: number | undefined
  /** Most invalidations kept for retry while publishing fails. Default 10,000. */
  readonly retryQueueLimit?: number | undefined
  /** How often queued invalidations are retried. Default 100 ms. */
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
}

/** The Redis bus: the `Bus` operations plus diagnostics. */
export interface Service extends Bus.Service {
  readonly diagnostics: () => Diagnostics
  /** The subscriber connection, for tests that inject faults. */
  readonly subscriber: () => Redis
}

const Envelope = Schema.Struct({
  v: Schema.Literal(1),
  node: Schema.String,
  seq: Schema.Int,
  msgs: Schema.Array(Bus.Message),
})
const decodeEnvelope = Schema.decodeUnknownResult(Envelope)

/** Keys a message is de-duplicated by in the retry queue; a later message for the same key replaces an earlier one. */
const dedupKeys = (message: Bus.Message): ReadonlyArray<readonly [string, Bus.Message]> => {
  switch (message._tag) {
    case "InvalidateKeys":
      return message.keys.map(
        (key) =>
          [
            `k\u0000${message.space}\u0000${key}`,
            { _tag: "InvalidateKeys", space: message.space, keys: [key] },
          ] as const,
      )
    case "InvalidateTag":
      return [[`t\u0000${message.tag}`, message]]
    case "ClearSpace":
      return [[`c\u0000${message.space}`, message]]
    case "Reset":
      return [["r", message]]
    case "Filled":
      // A hint for lease waiters, who poll anyway: not worth retrying.
      return []
  }
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

/**
 * Connects a publisher and a subscriber and builds the bus. Fails with
 * `BusUnavailable` if the subscriber cannot connect and subscribe within the
 * connect timeout (or lacks permission for the channel: Redis 7 ACL users
 * get no channel permission unless granted `&<channel>`).
 *
 * @example
 * ```ts
 * const bus = yield* RedisBus.make({ url: "redis://127.0.0.1:6379" })
 * ```
 */
export const make = Effect.fnUntraced(function* (options: Options) {
  const nodeId = randomUUID()
  const channel = options.channel ?? "strata:bus"
  const channelBuffer = Buffer.from(channel)
  const heartbeatMillis = options.heartbeatMillis ?? 1_000
  const heartbeatTimeout = options.heartbeatTimeoutMillis ?? 2_000
  const queueLimit = options.retryQueueLimit ?? 10_000
  const connectTimeout = options.connectTimeoutMillis ?? 5_000
  const sharded = options.cluster !== undefined
  const unavailable = (message: string, cause?: unknown) =>
    new BusUnavailable({ bus: "redis", message, ...(cause === undefined ? {} : { cause }) })

  const publisher = yield* Effect.try({
    try: () => createClient(options),
    catch: (e) => unavailable(String(e), e),
  })
  publisher.on("error", () => {
    // Publish failures are handled per call (queued for retry); connection errors are expected while Redis is down.
  })
  yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => withTimeout(publisher.connect(), connectTimeout, "connect the bus publisher"),
      catch: (e) => {
        publisher.disconnect()
        return unavailable(`could not connect the bus publisher: ${(e as Error).message}`, e)
      },
    }),
    () => Effect.sync(() => publisher.disconnect()),
  )

  // No socket timeout on the subscriber: it is blind to a blocked event loop; the lag-aware heartbeat below is not.
  const subscriberOptions: ConnectionOptions = sharded
    ? {
        ...options,
        socketTimeoutMillis: 0,
        cluster: undefined,
        redis: {
          ...options.cluster?.options?.redisOptions,
          ...(yield* Effect.tryPromise({
            try: () => nodeForSlot(publisher as Cluster, slotOf(channel)),
            catch: (e) =>
              unavailable(`could not find the Cluster node of the bus channel: ${(e as Error).message}`, e),
          })),
        },
      }
    : { ...options, socketTimeoutMillis: 0 }
  let subscriber = createClient(subscriberOptions) as Redis

  let subscribed = false
  let everSubscribed = false
  let gaps = 0
  let published = 0
  let received = 0
  let dropped = 0
  let publishFailures = 0
  let seq = 0
  let lastHeard = performance.now()
  const lastSeq = new Map<string, number>()
  const listeners = new Set<(event: Bus.BusEvent) => void>()
  const deliver = (event: Bus.BusEvent) => {
    for (const listener of listeners) listener(event)
  }
  const gap = (reason: string, connected: boolean) => {
    gaps++
    // After a gap every sender's sequence starts over as far as this subscriber knows.
    lastSeq.clear()
    deliver({ _tag: "Gap", reason, connected })
  }

  const onPayload = (payload: Buffer) => {
    lastHeard = performance.now()
    let raw: unknown
    try {
      raw = Msgpack.unpack(payload)
    } catch (error) {
      dropped++
      deliver({ _tag: "Dropped", reason: `undecodable bus message: ${(error as Error).message}` })
      return
    }
    const envelope = decodeEnvelope(raw)
    if (Result.isFailure(envelope)) {
      dropped++
      deliver({ _tag: "Dropped", reason: `malformed bus message: ${envelope.failure.message}` })
      return
    }
    const { node, seq: messageSeq, msgs } = envelope.success
    if (node === nodeId) return
    const previous = lastSeq.get(node)
    lastSeq.set(node, messageSeq)
    if (previous !== undefined && messageSeq !== previous + 1) {
      gap(`sequence gap from node ${node}: ${previous} then ${messageSeq}`, true)
      lastSeq.set(node, messageSeq)
    }
    received += msgs.length
    for (const message of msgs) deliver(message)
  }

  /** Subscribes, then confirms with a PING (answered only after the subscription was processed). */
  const subscribeAndConfirm = async (client: Redis) => {
    if (sharded) await client.ssubscribe(channel)
    else await client.subscribe(channel)
    await client.ping()
  }

  const attachSubscriber = (client: Redis) => {
    client.on("error", () => {
      // Reported through gaps (close/reconnect) below.
    })
    client.on(sharded ? "smessageBuffer" : "messageBuffer", (chan: Buffer, payload: Buffer) => {
      if (chan.equals(channelBuffer)) onPayload(payload)
    })
    client.on("close", () => {
      if (client !== subscriber) return
      if (subscribed) {
        subscribed = false
        gap("the bus subscriber connection closed", false)
      }
    })
    client.on("ready", () => {
      if (client !== subscriber || !everSubscribed) return
      // Subscribe explicitly on every (re)connection: ioredis re-subscribes only channels it had confirmed,
      // and a replacement connection whose first handshake failed has none. The PING answered after the
      // SUBSCRIBE proves the subscription is live.
      subscribeAndConfirm(client).then(
        () => {
          if (client !== subscriber || subscribed) return
          subscribed = true
          lastHeard = performance.now()
          gap("the bus subscriber reconnected", true)
        },
        () => {},
      )
    })
    client.on("end", () => {
      // ioredis gave up on this connection (its first handshake failed): start another.
      if (client === subscriber) setTimeout(() => client === subscriber && replaceSubscriber(), 200).unref()
    })
  }

  /** Replaces the subscriber connection; the new one reports the reconnect gap once it is subscribed. */
  const replaceSubscriber = () => {
    const old = subscriber
    subscribed = false
    subscriber = createClient(subscriberOptions) as Redis
    attachSubscriber(subscriber)
    old.disconnect()
    subscriber.connect().catch(() => {
      // Retried by ioredis, or by the "end" handler above.
    })
  }

  attachSubscriber(subscriber)
  yield* Effect.tryPromise({
    try: async () => {
      await withTimeout(subscriber.connect(), connectTimeout, "connect the bus subscriber")
      await subscribeAndConfirm(subscriber)
    },
    catch: (e) => {
      subscriber.disconnect()
      const message = (e as Error).message
      return unavailable(
        /NOPERM/i.test(message)
          ? `The Redis user may not use the bus channel ${channel} (${message}). Grant it: ACL SETUSER <user> &${channel}`
          : `could not subscribe the bus: ${message}`,
        e,
      )
    },
  })
  subscribed = true
  everSubscribed = true
  lastHeard = performance.now()
  yield* Effect.addFinalizer(() => Effect.sync(() => subscriber.disconnect()))

  // Heartbeat: a PING on the subscriber connection. Only responsive time counts towards the timeout:
  // each check credits at most one check interval, so a blocked event loop is not taken for a dead link.
  const CHECK = 100
  let pending: { credited: number; last: number } | undefined
  let lastPing = performance.now()
  const heartbeat = setInterval(() => {
    const now = performance.now()
    if (pending !== undefined) {
      pending.credited += Math.min(now - pending.last, CHECK * 2)
      pending.last = now
      if (pending.credited >= heartbeatTimeout) {
        pending = undefined
        subscribed = false
        gap(`the bus subscriber did not answer a ping within ${heartbeatTimeout} ms`, false)
        replaceSubscriber()
      }
      return
    }
    if (!subscribed || now - lastPing < heartbeatMillis) return
    lastPing = now
    const probe = { credited: 0, last: now }
    pending = probe
    const client = subscriber
    client.ping().then(
      () => {
        if (client === subscriber) lastHeard = performance.now()
        if (pending === probe) pending = undefined
      },
      () => {},
    )
  }, CHECK)
  heartbeat.unref()
  yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(heartbeat)))

  // Publishing: one batch per tick; failures go to a bounded, de-duplicated retry queue.
  let outbox: Array<Bus.Message> = []
  let flushScheduled = false
  const retry = new Map<string, Bus.Message>()
  let overflowed = false

  const send = (messages: ReadonlyArray<Bus.Message>): Promise<unknown> => {
    const payload = Buffer.from(Msgpack.pack({ v: 1, node: nodeId, seq: ++seq, msgs: messages }))
    return sharded
      ? (publisher as Cluster).spublish(channel, payload)
      : (publisher as Redis).publish(channel, payload)
  }
  const enqueueForRetry = (messages: ReadonlyArray<Bus.Message>) => {
    publishFailures++
    for (const message of messages) {
      for (const [key, part] of dedupKeys(message)) {
        retry.delete(key)
        retry.set(key, part)
      }
    }
    if (retry.size > queueLimit) {
      retry.clear()
      overflowed = true
    }
  }
  const flush = () => {
    flushScheduled = false
    const batch = outbox
    outbox = []
    if (batch.length === 0) return
    send(batch).then(
      () => {
        published += batch.length
      },
      () => enqueueForRetry(batch),
    )
  }
  const retryTimer = setInterval(() => {
    if (publisher.status !== "ready" || (retry.size === 0 && !overflowed)) return
    const batch: Array<Bus.Message> = overflowed
      ? [{ _tag: "Reset", reason: `node ${nodeId} lost invalidations while Redis was unreachable` }]
      : [...retry.values()]
    const wasOverflow = overflowed
    retry.clear()
    overflowed = false
    send(batch).then(
      () => {
        published += batch.length
      },
      () => {
        if (wasOverflow) overflowed = true
        else enqueueForRetry(batch)
      },
    )
  }, options.retryIntervalMillis ?? 100)
  retryTimer.unref()
  yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(retryTimer)))

  const service: Service = {
    name: "redis",
    publish: (messages) =>
      Effect.sync(() => {
        outbox.push(...messages)
        if (!flushScheduled) {
          flushScheduled = true
          queueMicrotask(flush)
        }
      }),
    subscribe: (onEvent) =>
      Effect.acquireRelease(
        Effect.sync(() => listeners.add(onEvent)),
        () => Effect.sync(() => listeners.delete(onEvent)),
      ),
    diagnostics: () => ({
      nodeId,
      subscribed,
      gaps,
      published,
      received,
      dropped,
      queued: retry.size,
      publishFailures,
    }),
    subscriber: () => subscriber,
    lastHeard: () => lastHeard,
    // A healthy subscription answers a ping at least this often.
    silenceBoundMillis: heartbeatMillis + heartbeatTimeout,
  }
  return service
})

const withTimeout = <A>(promise: Promise<A>, millis: number, what: string): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`could not ${what} within ${millis} ms`)), millis)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
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
export const layer = (options: Options): Layer.Layer<Bus.Bus, BusUnavailable> =>
  Layer.effect(Bus.Bus, make(options))
