/**
 * Sliding window log: every admitted unit is logged with its time, and a
 * request is admitted when the units logged in the last `window` ms (times
 * `t` with `now − window < t <= now`) plus its cost stay within `limit`.
 * Exact at every instant, with no boundary burst, at the price of memory in
 * proportion to the limit (one entry per unit). Described as the "sliding
 * log" in Figma's write-up of its rate limiter
 * (https://www.figma.com/blog/an-alternative-approach-to-rate-limiting/) and
 * built on a sorted set as in Redis's own rate-limiting guidance
 * (https://redis.io/glossary/rate-limiting/).
 *
 * State: the unit times in ascending order (Redis: a sorted set scored by
 * time, members `time:index`). Members stay unique because the indices at
 * one time are contiguous from the log's size when the first was added:
 * nothing expires within one millisecond, and a refund pops the highest
 * index first (indices are zero-padded, so ties pop in numeric order).
 * The log expires `window` ms after its newest entry.
 *
 * @since 0.1.0
 */
import type { Algorithm, Params, Transition } from "../Algorithm.ts"

/** The times (epoch ms) of the logged units, ascending. Owned by the store: steps change it in place. */
export type State = Array<number>

/** Drops the units that left the window: times `<= now − window`. */
const trim = (log: State, now: number, windowMillis: number): void => {
  const cutoff = now - windowMillis
  let drop = 0
  while (drop < log.length && log[drop]! <= cutoff) drop++
  if (drop > 0) log.splice(0, drop)
}

const settle = (log: State, now: number, { limit, windowMillis }: Params): Transition<State> => {
  const newest = log.length > 0 ? log[log.length - 1]! + windowMillis : now
  return {
    state: log.length > 0 ? log : undefined,
    expiresAt: newest,
    outcome: { allowed: true, remaining: limit - log.length, resetAt: newest, retryAfter: 0 },
  }
}

/** The sliding-log algorithm (see the module notes). */
export const slidingLog: Algorithm<State> = {
  name: "sliding-log",
  consume: (state, now, cost, params) => {
    const log = state ?? []
    trim(log, now, params.windowMillis)
    if (log.length + cost > params.limit) {
      // The oldest (length + cost − limit) units must leave first; the last of them leaves at its time + window.
      const freeing = log[log.length + cost - params.limit - 1]!
      return {
        state: log.length > 0 ? log : undefined,
        expiresAt: log[log.length - 1]! + params.windowMillis,
        outcome: {
          allowed: false,
          remaining: params.limit - log.length,
          resetAt: log[log.length - 1]! + params.windowMillis,
          retryAfter: freeing + params.windowMillis - now,
        },
      }
    }
    for (let i = 0; i < cost; i++) log.push(now)
    return settle(log, now, params)
  },
  refund: (state, now, amount, params) => {
    const log = state ?? []
    trim(log, now, params.windowMillis)
    log.splice(Math.max(0, log.length - amount), amount)
    return settle(log, now, params)
  },
  lua: `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now - window))
local size = redis.call('ZCARD', KEYS[1])
local function newestExpiry()
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if newest[2] then return tonumber(newest[2]) + window end
  return now
end
if op == 'r' then
  if size > 0 then redis.call('ZPOPMAX', KEYS[1], fmt(math.min(amount, size))) end
  size = redis.call('ZCARD', KEYS[1])
  return reply(true, limit - size, newestExpiry(), 0)
end
if size + amount > limit then
  local freeing = redis.call('ZRANGE', KEYS[1], size + amount - limit - 1, size + amount - limit - 1, 'WITHSCORES')
  return reply(false, limit - size, newestExpiry(), tonumber(freeing[2]) + window - now)
end
local stamp = fmt(now)
local added = 0
while added < amount do
  local args = {}
  local batch = math.min(amount - added, 500)
  for i = 1, batch do
    args[#args + 1] = stamp
    args[#args + 1] = stamp .. ':' .. string.format('%07d', size + added + i - 1)
  end
  redis.call('ZADD', KEYS[1], unpack(args))
  added = added + batch
end
redis.call('PEXPIRE', KEYS[1], fmt(window))
return reply(true, limit - size - amount, now + window, 0)
`,
}
