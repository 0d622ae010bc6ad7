/**
 * The in-process rate-limit store: exact (the algorithms' integer steps run
 * synchronously, so no two steps of a key interleave), with an injectable
 * clock for tests. It limits one process only: behind a load balancer with
 * `n` processes, clients get up to `n` times the limit. Use the Redis store
 * to share a limit across processes.
 *
 * Expired state is dropped when its key is next used, and swept in full
 * whenever the number of keys doubles since the last sweep, so memory stays
 * in proportion to the keys active within one window.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { byName } from "./algorithms/index.ts"
import { RateLimitStore, type Service } from "./RateLimitStore.ts"

/** The options of {@link make} and {@link layer}. */
export interface Options {
  /** Epoch ms now. Default `Date.now`. Tests pass a clock they drive. */
  readonly clock?: (() => number) | undefined
}

interface Slot {
  state: unknown
  expiresAt: number
}

/**
 * A memory store as a plain value (no Effect needed): `apply` never fails.
 *
 * @example
 * ```ts
 * let now = 0
 * const store = MemoryRateStore.make({ clock: () => now })
 * ```
 */
export const make = (options: Options = {}): Service => {
  const clock = options.clock ?? Date.now
  const slots = new Map<string, Slot>()
  let sweepAt = 1_024
  const sweep = (now: number) => {
    for (const [key, slot] of slots) if (slot.expiresAt <= now) slots.delete(key)
    sweepAt = Math.max(1_024, slots.size * 2)
  }
  return {
    name: "memory",
    apply: (step) =>
      Effect.sync(() => {
        const now = clock()
        const algorithm = byName[step.algorithm]
        const key = `${step.algorithm}:${step.key}`
        const slot = slots.get(key)
        const state = slot !== undefined && slot.expiresAt > now ? slot.state : undefined
        const transition =
          step.op === "consume"
            ? algorithm.consume(state, now, step.amount, step.params)
            : algorithm.refund(state, now, step.amount, step.params)
        if (transition.state === undefined) slots.delete(key)
        else if (slot !== undefined) {
          slot.state = transition.state
          slot.expiresAt = transition.expiresAt
        } else {
          slots.set(key, { state: transition.state, expiresAt: transition.expiresAt })
          if (slots.size >= sweepAt) sweep(now)
        }
        return transition.outcome
      }),
  }
}

/**
 * The memory store as a layer.
 *
 * @example
 * ```ts
 * const program = RateLimiter.consume(Search, "user-1").pipe(Effect.provide(MemoryRateStore.layer()))
 * ```
 */
export const layer = (options: Options = {}): Layer.Layer<RateLimitStore> =>
  Layer.sync(RateLimitStore, () => make(options))
