/**
 * Fixed window: time is cut into windows of `window` ms aligned on the epoch
 * (`[k·window, (k+1)·window)`), and each window admits `limit` units. The
 * classic counter (Redis documents it as the `INCR` rate-limiter pattern,
 * https://redis.io/docs/latest/commands/incr/#pattern-rate-limiter), made
 * exact: the check, the count and the TTL are one step, and a denied request
 * counts nothing.
 *
 * Its known weakness, kept and documented: a client can spend a full window's
 * limit at the end of one window and again at the start of the next, so up to
 * `2 × limit` units pass within a span of `window` ms around a boundary.
 *
 * State: the window's start and its count (Redis: the string `start:count`,
 * expiring at the window's end). The start is kept beside the count because
 * Redis still returns a key at the exact millisecond it expires.
 *
 * @since 0.1.0
 */
import type { Algorithm, Params, Transition } from "../Algorithm.ts"

/** The count of the window starting at `start` (epoch ms). */
export interface State {
  readonly start: number
  readonly count: number
}

const decide = (
  state: State | undefined,
  now: number,
  delta: number,
  refund: boolean,
  { limit, windowMillis }: Params,
): Transition<State> => {
  const start = now - (now % windowMillis)
  const end = start + windowMillis
  const current = state !== undefined && state.start === start ? state.count : 0
  const next = refund ? Math.max(0, current - delta) : current + delta
  if (!refund && next > limit) {
    return {
      state,
      expiresAt: end,
      outcome: {
        allowed: false,
        remaining: limit - current,
        resetAt: current > 0 ? end : now,
        retryAfter: end - now,
      },
    }
  }
  return {
    state: next > 0 ? { start, count: next } : undefined,
    expiresAt: end,
    outcome: { allowed: true, remaining: limit - next, resetAt: next > 0 ? end : now, retryAfter: 0 },
  }
}

/** The fixed-window algorithm (see the module notes). */
export const fixedWindow: Algorithm<State> = {
  name: "fixed-window",
  consume: (state, now, cost, params) => decide(state, now, cost, false, params),
  refund: (state, now, amount, params) => decide(state, now, amount, true, params),
  lua: `
local start = now - (now % window)
local finish = start + window
local current = 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local s, c = string.match(stored, '^(%d+):(%d+)$')
  if s and tonumber(s) == start then current = tonumber(c) end
end
local nextCount
if op == 'r' then nextCount = math.max(0, current - amount) else nextCount = current + amount end
if op ~= 'r' and nextCount > limit then
  local resetAt = now
  if current > 0 then resetAt = finish end
  return reply(false, limit - current, resetAt, finish - now)
end
if nextCount > 0 then
  redis.call('SET', KEYS[1], fmt(start) .. ':' .. fmt(nextCount), 'PX', fmt(finish - now))
  return reply(true, limit - nextCount, finish, 0)
end
redis.call('DEL', KEYS[1])
return reply(true, limit, now, 0)
`,
}
