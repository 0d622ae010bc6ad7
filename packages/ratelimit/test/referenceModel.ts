/**
 * A reference model of the five algorithms written from their definitions,
 * not from the implementation: it keeps the history of admitted requests and
 * answers "would a request of cost c at time t be admitted?" by recounting
 * that history (windows) or replaying it with BigInt arithmetic (bucket,
 * GCRA). `remaining`, `resetAt` and `retryAfter` are then found by brute
 * force: probing costs and future instants one by one.
 */
import type { Algorithm } from "@strata/ratelimit"

export interface ModelParams {
  readonly limit: number
  readonly windowMillis: number
  readonly burst: number
}

export interface Admitted {
  readonly at: number
  readonly cost: number
}

const sum = (history: ReadonlyArray<Admitted>, keep: (a: Admitted) => boolean) =>
  history.reduce((total, a) => (keep(a) ? total + a.cost : total), 0)

/** Whether `cost` at `t` is admitted after `history` (all at times <= t). */
export const admits = (
  algorithm: Algorithm.Name,
  { limit, windowMillis: w, burst }: ModelParams,
  history: ReadonlyArray<Admitted>,
  t: number,
  cost: number,
): boolean => {
  switch (algorithm) {
    case "fixed-window": {
      const window = Math.floor(t / w)
      return sum(history, (a) => Math.floor(a.at / w) === window) + cost <= limit
    }
    case "sliding-log":
      return sum(history, (a) => a.at > t - w) + cost <= limit
    case "sliding-window": {
      // Buckets of ceil(w / 10) ms; every bucket that overlaps (t − w, t] counts whole.
      const width = Math.ceil(w / 10)
      const oldest = Math.floor((t - w + 1) / width)
      return sum(history, (a) => Math.floor(a.at / width) >= oldest) + cost <= limit
    }
    case "token-bucket": {
      // Tokens as a BigInt count of 1/w tokens: a ms refills `limit` of them.
      const capacity = BigInt(burst) * BigInt(w)
      let tokens = capacity
      let last = history.length > 0 ? history[0]!.at : t
      const refillTo = (at: number) => {
        const refilled = tokens + BigInt(at - last) * BigInt(limit)
        tokens = refilled < capacity ? refilled : capacity
        last = at
      }
      for (const a of history) {
        refillTo(a.at)
        tokens -= BigInt(a.cost) * BigInt(w)
      }
      refillTo(t)
      return tokens >= BigInt(cost) * BigInt(w)
    }
    case "gcra": {
      // Virtual scheduling (ATM Forum TM 4.0): TAT in ticks of 1/limit ms, T = w ticks, τ + T = burst × T.
      const tick = BigInt(limit)
      const T = BigInt(w)
      let tat = 0n
      for (const a of history) {
        const arrival = BigInt(a.at) * tick
        tat = (tat > arrival ? tat : arrival) + BigInt(a.cost) * T
      }
      const arrival = BigInt(t) * tick
      const start = tat > arrival ? tat : arrival
      return start + BigInt(cost) * T - arrival <= BigInt(burst) * T
    }
  }
}

export interface ModelDecision {
  readonly allowed: boolean
  readonly remaining: number
  readonly resetAt: number
  readonly retryAfter: number
}

/** The capacity: the largest cost that can ever be admitted. */
export const capacityOf = (algorithm: Algorithm.Name, params: ModelParams) =>
  algorithm === "token-bucket" || algorithm === "gcra" ? params.burst : params.limit

/** Decides a request and, when admitted, appends it to `history`. */
export const decide = (
  algorithm: Algorithm.Name,
  params: ModelParams,
  history: Array<Admitted>,
  t: number,
  cost: number,
): ModelDecision => {
  const allowed = admits(algorithm, params, history, t, cost)
  if (allowed) history.push({ at: t, cost })
  const capacity = capacityOf(algorithm, params)
  const remainingAt = (at: number) => {
    let c = 0
    while (c < capacity && admits(algorithm, params, history, at, c + 1)) c++
    return c
  }
  const horizon = t + (Math.ceil(params.burst / params.limit) + 3) * params.windowMillis + 2
  let resetAt = t
  while (remainingAt(resetAt) < capacity) {
    resetAt++
    if (resetAt > horizon) throw new Error("model: no reset within the horizon")
  }
  let retryAfter = 0
  if (!allowed) {
    retryAfter = 1
    while (!admits(algorithm, params, history, t + retryAfter, cost)) {
      retryAfter++
      if (t + retryAfter > horizon) throw new Error("model: no retry within the horizon")
    }
  }
  return { allowed, remaining: remainingAt(t), resetAt, retryAfter }
}
