import type { Bus } from "@strata/core"
import { Effect, Schedule, type Scope } from "effect"
import type { Cluster, Redis } from "ioredis"
import * as BusEnvelope from "./busEnvelope.ts"
import type { Client } from "./connection.ts"
import type { Liveness } from "./liveness.ts"

/** The publishing side of the Redis bus. */
export interface Outbox {
  /** Queues messages for this tick's batch; never fails (a failed send is retried). */
  readonly publish: (messages: ReadonlyArray<Bus.Message>) => void
  readonly published: () => number
  readonly queued: () => number
  readonly failures: () => number
}

/**
 * Builds the outbox: everything published in one tick goes out as one
 * batch; a batch that fails to send goes into a bounded retry queue,
 * de-duplicated per key (per tag, per space), retried every
 * `retryIntervalMillis` while the publisher is connected. If the queue
 * overflows, the process publishes one `Reset` once it can, which makes
 * every process drop its L1: it can no longer say which keys it changed.
 * The retry loop runs in the scope and stops with it.
 */
export const make = (options: {
  readonly publisher: Client
  readonly channel: string
  readonly sharded: boolean
  readonly nodeId: string
  readonly queueLimit: number
  readonly retryIntervalMillis: number
  readonly liveness: Liveness
}): Effect.Effect<Outbox, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { publisher, channel, sharded, nodeId, queueLimit } = options
    let seq = 0
    let published = 0
    let failures = 0
    let outbox: Array<Bus.Message> = []
    let flushScheduled = false
    const retry = new Map<string, Bus.Message>()
    let overflowed = false

    const send = (messages: ReadonlyArray<Bus.Message>): Promise<unknown> => {
      const payload = BusEnvelope.encode(nodeId, ++seq, messages)
      return options.liveness.track(() =>
        sharded
          ? (publisher as Cluster).spublish(channel, payload)
          : (publisher as Redis).publish(channel, payload),
      )
    }
    const enqueueForRetry = (messages: ReadonlyArray<Bus.Message>) => {
      failures++
      for (const message of messages) {
        for (const [key, part] of BusEnvelope.dedupKeys(message)) {
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
    const retryOnce = Effect.sync(() => {
      if (publisher.status !== "ready" || (retry.size === 0 && !overflowed)) return
      const wasOverflow = overflowed
      const batch: Array<Bus.Message> = wasOverflow
        ? [{ _tag: "Reset", reason: `node ${nodeId} lost invalidations while Redis was unreachable` }]
        : [...retry.values()]
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
    })
    yield* retryOnce.pipe(Effect.repeat(Schedule.spaced(options.retryIntervalMillis)), Effect.forkScoped)

    return {
      publish: (messages) => {
        outbox.push(...messages)
        if (!flushScheduled) {
          flushScheduled = true
          queueMicrotask(flush)
        }
      },
      published: () => published,
      queued: () => retry.size,
      failures: () => failures,
    }
  })
