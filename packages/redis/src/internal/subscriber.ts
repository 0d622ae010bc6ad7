import { BusUnavailable } from "@strata/core"
import { Effect, Schedule, type Scope } from "effect"
import type { Redis } from "ioredis"
import { type ConnectionOptions, createClient } from "./connection.ts"

/**
 * A connection for the subscriber. We subscribe ourselves on every "ready"
 * (below), so ioredis' own re-subscription is turned off: with no offline
 * queue it fails when the link drops again before it runs, and that failure
 * is a promise nobody holds (an unhandled rejection in the user's process).
 */
const subscriberClient = (connection: ConnectionOptions): Redis => {
  const client = createClient(connection) as Redis
  if (client.options !== undefined) client.options.autoResubscribe = false
  return client
}

/** The subscribing side of the Redis bus. */
export interface Subscriber {
  /** When the subscription last showed a sign of life (a message, a ping reply), as `performance.now()`. */
  readonly lastHeard: () => number
  readonly subscribed: () => boolean
  /** The connection now (it is replaced after a dead link), for tests that inject faults. */
  readonly current: () => Redis
}

/** What the subscriber needs. */
export interface SubscriberOptions {
  readonly connection: ConnectionOptions
  readonly channel: string
  readonly sharded: boolean
  readonly heartbeatMillis: number
  readonly heartbeatTimeoutMillis: number
  readonly connectTimeoutMillis: number
  /** A payload arrived on the channel. */
  readonly onPayload: (payload: Buffer) => void
  /** Delivery may have lapsed (`connected: false`: it is down now; `true`: it is back after a lapse). */
  readonly onGap: (reason: string, connected: boolean) => void
}

/**
 * Subscribes to the channel and keeps the subscription alive, reporting a
 * gap whenever delivery may have lapsed (Redis pub/sub is at-most-once):
 *
 * - the connection closed (a kill, a restart, Redis closing a slow
 *   subscriber at its output-buffer limit): a gap, then another once it is
 *   subscribed again, confirmed by a PING answered after the SUBSCRIBE
 *   (ioredis re-subscribes silently, and only channels it had confirmed);
 * - the heartbeat (a PING every `heartbeatMillis` on the subscriber
 *   connection) went unanswered for `heartbeatTimeoutMillis` of *responsive*
 *   time: each check credits at most two check intervals, so time the event
 *   loop spent blocked is not taken for a dead link. The connection is then
 *   replaced (a black-holed link stays "ready" for ever otherwise), and so is
 *   a connection ioredis gave up on.
 *
 * The heartbeat runs on an Effect schedule in the scope; closing the scope
 * stops it and closes the connection, and nothing reconnects after that.
 */
export const make = (options: SubscriberOptions): Effect.Effect<Subscriber, BusUnavailable, Scope.Scope> =>
  Effect.gen(function* () {
    const { channel, sharded, heartbeatMillis, heartbeatTimeoutMillis, onPayload, onGap } = options
    const channelBuffer = Buffer.from(channel)
    let closed = false
    let subscribed = false
    let everSubscribed = false
    let lastHeard = performance.now()
    let subscriber = subscriberClient(options.connection)

    const subscribeAndConfirm = async (client: Redis) => {
      if (sharded) await client.ssubscribe(channel)
      else await client.subscribe(channel)
      await client.ping()
    }

    const attach = (client: Redis) => {
      client.on("error", () => {
        // Reported through gaps (close, reconnect, heartbeat) below.
      })
      client.on(sharded ? "smessageBuffer" : "messageBuffer", (chan: Buffer, payload: Buffer) => {
        if (closed || client !== subscriber || !chan.equals(channelBuffer)) return
        lastHeard = performance.now()
        onPayload(payload)
      })
      client.on("close", () => {
        if (closed || client !== subscriber || !subscribed) return
        subscribed = false
        onGap("the bus subscriber connection closed", false)
      })
      client.on("ready", () => {
        if (closed || client !== subscriber || !everSubscribed) return
        // Subscribe explicitly on every (re)connection: ioredis re-subscribes only channels it had confirmed,
        // and a replacement whose first handshake failed has none. The PING answered after it proves it live.
        subscribeAndConfirm(client).then(
          () => {
            if (closed || client !== subscriber || subscribed) return
            subscribed = true
            lastHeard = performance.now()
            onGap("the bus subscriber reconnected", true)
          },
          () => {},
        )
      })
    }

    /** Replaces the connection; the new one reports the reconnect gap once it is subscribed. */
    const replace = () => {
      const old = subscriber
      subscribed = false
      subscriber = subscriberClient(options.connection)
      attach(subscriber)
      old.disconnect()
      subscriber.connect().catch(() => {
        // Retried by ioredis, or replaced again by the heartbeat once ioredis gives up.
      })
    }

    attach(subscriber)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        subscriber.disconnect()
      }),
    )
    yield* Effect.tryPromise({
      try: async () => {
        await withTimeout(subscriber.connect(), options.connectTimeoutMillis, "connect the bus subscriber")
        await subscribeAndConfirm(subscriber)
      },
      catch: (e) => {
        const message = (e as Error).message
        return new BusUnavailable({
          bus: "redis",
          message: /NOPERM/i.test(message)
            ? `The Redis user may not use the bus channel ${channel} (${message}). Grant it: ACL SETUSER <user> &${channel}`
            : `could not subscribe the bus: ${message}`,
          cause: e,
        })
      },
    })
    subscribed = true
    everSubscribed = true
    lastHeard = performance.now()

    const check = Math.max(10, Math.min(50, Math.floor(heartbeatMillis / 2)))
    let pending: { credited: number; last: number } | undefined
    let lastPing = performance.now()
    const beat = Effect.sync(() => {
      if (closed) return
      const now = performance.now()
      if (subscriber.status === "end") {
        // ioredis gave up on this connection (its first handshake failed): start another.
        pending = undefined
        replace()
        return
      }
      if (pending !== undefined) {
        pending.credited += Math.min(now - pending.last, check * 2)
        pending.last = now
        if (pending.credited >= heartbeatTimeoutMillis) {
          pending = undefined
          if (subscribed) {
            subscribed = false
            onGap(`the bus subscriber did not answer a ping within ${heartbeatTimeoutMillis} ms`, false)
          }
          replace()
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
    })
    yield* beat.pipe(Effect.repeat(Schedule.spaced(check)), Effect.forkScoped)

    return { lastHeard: () => lastHeard, subscribed: () => subscribed, current: () => subscriber }
  })

/** `promise`, or a rejection after `millis` naming `what` could not be done. */
export const withTimeout = <A>(promise: Promise<A>, millis: number, what: string): Promise<A> =>
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
