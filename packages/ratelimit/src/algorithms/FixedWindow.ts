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
 * State: the window's start and its count. On Redis, a plain count changed
 * with `INCRBY` (about 6 µs of server time, against 7.5 µs for a
 * `start:count` string parsed and rewritten) that expires at its window's
 * end (`PEXPIREAT`): a key whose expiry (`PEXPIRETIME`, Redis 7) is not the
 * current window's end belongs to another window (the one before, which
 * Redis still shows in its last millisecond; or a window of another length
 * after a redeploy) or to nobody (no TTL), and is replaced.
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
-- A key holds this window's count only if it expires at the window's end. Any other is a key of the
-- window before (Redis judges expiry by the script's start, up to a millisecond behind TIME), a count
-- without a TTL, or one kept for another window length: this window starts afresh.
local expires = redis.call('PEXPIRETIME', KEYS[1])
if expires ~= finish and expires ~= -2 then
  if redis.call('TYPE', KEYS[1]).ok ~= 'string' then
    return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
  end
  redis.call('DEL', KEYS[1])
end
if op == 'r' then
  local n = math.max(0, (tonumber(redis.call('GET', KEYS[1])) or 0) - amount)
  if n > 0 then
    redis.call('SET', KEYS[1], fmt(n), 'PXAT', fmt(finish))
    return reply(true, limit - n, finish, 0)
  end
  redis.call('DEL', KEYS[1])
  return reply(true, limit, now, 0)
end
local n = redis.pcall('INCRBY', KEYS[1], amount)
if type(n) == 'table' then
  -- Not a count (a string written in another format): this window starts afresh.
  redis.call('SET', KEYS[1], fmt(amount))
  n = amount
end
-- Expiring at the window's end, which is also how the next call knows the key is this window's.
if n == amount then redis.call('PEXPIREAT', KEYS[1], fmt(finish)) end
if n > limit then
  redis.call('DECRBY', KEYS[1], amount)
  return reply(false, math.max(0, limit - (n - amount)), finish, finish - now)
end
return reply(true, limit - n, finish, 0)
`,
}
