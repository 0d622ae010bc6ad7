/**
 * Sliding window counter: the count of the current fixed window plus the
 * previous window's count weighted by how much of it the sliding window
 * still covers, as Cloudflare describes it
 * (https://blog.cloudflare.com/counting-things-a-lot-of-different-things/):
 * `previous × (window − elapsed) / window + current`. Constant memory (two
 * counts), no boundary burst of 2×: the estimate assumes the previous
 * window's requests were spread evenly, so it can admit somewhat more than
 * the limit within some spans of `window` ms when they were not (at most
 * `2 × limit` in theory, far less in practice; the model tests state the
 * exact rule).
 *
 * Kept exact by comparing `previous × (window − elapsed) + (current + cost) ×
 * window` with `limit × window` in integers (limit × window must stay below
 * 2^50). State: the current window's start and both counts (Redis: the
 * string `start:current:previous`, expiring when its counts stop mattering).
 *
 * @since 0.1.0
 */
import { type Algorithm, floorDiv, type Params, type Transition } from "../Algorithm.ts"

/** The counts of the window starting at `start` (epoch ms) and of the one before it. */
export interface State {
  readonly start: number
  readonly current: number
  readonly previous: number
}

/** The counts as seen at `now`: rolled forward when one or more windows passed. */
const roll = (state: State | undefined, start: number, windowMillis: number) =>
  state === undefined
    ? { current: 0, previous: 0 }
    : state.start === start
      ? { current: state.current, previous: state.previous }
      : state.start === start - windowMillis
        ? { current: 0, previous: state.current }
        : { current: 0, previous: 0 }

/** The weighted count × window at `elapsed` ms into the window. */
const weighted = (current: number, previous: number, elapsed: number, windowMillis: number) =>
  previous * (windowMillis - elapsed) + current * windowMillis

/** Epoch ms at which the estimate is back to 0. */
const emptyAt = (current: number, previous: number, start: number, now: number, windowMillis: number) =>
  current > 0 ? start + 2 * windowMillis : previous > 0 ? start + windowMillis : now

/** ms to wait before `cost` fits (only called when it does not fit now). */
const waitFor = (current: number, previous: number, elapsed: number, cost: number, params: Params) => {
  const { limit, windowMillis: w } = params
  const spare = limit - current - cost
  if (spare >= 0) return w - elapsed - floorDiv(spare * w, previous)
  // Not before the next window, where the current count becomes the weighted previous one.
  const into = Math.max(0, w - floorDiv((limit - cost) * w, current))
  return w - elapsed + into
}

const decide = (
  state: State | undefined,
  now: number,
  delta: number,
  refund: boolean,
  params: Params,
): Transition<State> => {
  const { limit, windowMillis: w } = params
  const start = now - (now % w)
  const elapsed = now - start
  const { current, previous } = roll(state, start, w)
  if (!refund && weighted(current + delta, previous, elapsed, w) > limit * w) {
    return {
      state,
      expiresAt: emptyAt(current, previous, start, now, w),
      outcome: {
        allowed: false,
        remaining: Math.max(0, floorDiv(limit * w - weighted(current, previous, elapsed, w), w)),
        resetAt: emptyAt(current, previous, start, now, w),
        retryAfter: waitFor(current, previous, elapsed, delta, params),
      },
    }
  }
  const next = refund ? Math.max(0, current - delta) : current + delta
  const resetAt = emptyAt(next, previous, start, now, w)
  return {
    state: next > 0 || previous > 0 ? { start, current: next, previous } : undefined,
    expiresAt: resetAt,
    outcome: {
      allowed: true,
      remaining: Math.max(0, floorDiv(limit * w - weighted(next, previous, elapsed, w), w)),
      resetAt,
      retryAfter: 0,
    },
  }
}

/** The sliding-window-counter algorithm (see the module notes). */
export const slidingWindow: Algorithm<State> = {
  name: "sliding-window",
  consume: (state, now, cost, params) => decide(state, now, cost, false, params),
  refund: (state, now, amount, params) => decide(state, now, amount, true, params),
  lua: `
local start = now - (now % window)
local elapsed = now - start
local current, previous = 0, 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local s, c, p = string.match(stored, '^(%d+):(%d+):(%d+)$')
  if s then
    s = tonumber(s)
    if s == start then current, previous = tonumber(c), tonumber(p)
    elseif s == start - window then previous = tonumber(c) end
  end
end
local function emptyAt(c, p)
  if c > 0 then return start + 2 * window elseif p > 0 then return start + window end
  return now
end
local function remainingOf(c, p)
  return math.max(0, floordiv(limit * window - p * (window - elapsed) - c * window, window))
end
if op ~= 'r' and previous * (window - elapsed) + (current + amount) * window > limit * window then
  local wait
  local spare = limit - current - amount
  if spare >= 0 then
    wait = window - elapsed - floordiv(spare * window, previous)
  else
    wait = window - elapsed + math.max(0, window - floordiv((limit - amount) * window, current))
  end
  return reply(false, remainingOf(current, previous), emptyAt(current, previous), wait)
end
local nextCount
if op == 'r' then nextCount = math.max(0, current - amount) else nextCount = current + amount end
local resetAt = emptyAt(nextCount, previous)
if nextCount > 0 or previous > 0 then
  redis.call('SET', KEYS[1], fmt(start) .. ':' .. fmt(nextCount) .. ':' .. fmt(previous), 'PX', fmt(resetAt - now))
else
  redis.call('DEL', KEYS[1])
end
return reply(true, remainingOf(nextCount, previous), resetAt, 0)
`,
}
