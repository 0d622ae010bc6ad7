/**
 * Sliding window counter over sub-windows: the window is cut into
 * {@link SUB_WINDOWS} sub-windows ("buckets") of `ceil(window / 10)` ms, each
 * holding the count of the requests admitted in it; a request is admitted
 * when the counts of every bucket that overlaps the last `window` ms, plus its
 * cost, stay within the limit. This is the rolling counter of Hystrix
 * (Netflix, `HystrixRollingNumber`) used as a limiter, and the sub-window
 * refinement of Cloudflare's two-count estimate
 * (https://blog.cloudflare.com/counting-things-a-lot-of-different-things/).
 *
 * Why not Cloudflare's two counts: they weight the previous window by how
 * much of it the sliding window still covers, which assumes its requests were
 * spread evenly; a burst at the end of one window followed by steady requests
 * then admits close to `2 × limit` within one window's span (measured 19 for a
 * limit of 10). Counting the oldest overlapping bucket whole instead never
 * admits more than `limit` within any `window` ms, like the sliding log, at
 * the price of a request counting for up to one bucket (a tenth of the
 * window) longer than the log would count it. State: at most 11 counts, kept
 * as the index of the oldest bucket and the counts from there on (Redis: the
 * string `first:c1,c2,...`, expiring when its newest count stops mattering).
 *
 * @since 0.1.0
 */
import { type Algorithm, ceilDiv, floorDiv, type Params, type Transition } from "../Algorithm.ts"

/** How many sub-windows a window is cut into (so state holds at most 11 counts). */
export const SUB_WINDOWS = 10

/** The counts of consecutive buckets, the first being bucket number `first` (epoch ms / bucket width). */
export interface State {
  readonly first: number
  readonly counts: ReadonlyArray<number>
}

/** The buckets that count at `now`: from the one holding `now − window + 1` to the one holding `now`. */
const span = (now: number, windowMillis: number) => {
  const width = ceilDiv(windowMillis, SUB_WINDOWS)
  return { width, oldest: floorDiv(now - windowMillis + 1, width), newest: floorDiv(now, width) }
}

/** The index of the newest bucket holding a count, or −1 (lib es2022 has no `findLastIndex`). */
const lastUsed = (counts: ReadonlyArray<number>) => {
  for (let i = counts.length - 1; i >= 0; i--) if (counts[i]! > 0) return i
  return -1
}

/** Epoch ms at which bucket `index` stops counting. */
const droppedAt = (index: number, width: number, windowMillis: number) =>
  (index + 1) * width + windowMillis - 1

const decide = (
  state: State | undefined,
  now: number,
  delta: number,
  refund: boolean,
  params: Params,
): Transition<State> => {
  const { limit, windowMillis: w } = params
  const { width, oldest, newest } = span(now, w)
  const counts = new Array<number>(newest - oldest + 1).fill(0)
  if (state !== undefined) {
    state.counts.forEach((count, i) => {
      const index = state.first + i
      if (index >= oldest && index <= newest) counts[index - oldest] = count
    })
  }
  const total = counts.reduce((a, b) => a + b, 0)
  if (!refund && total + delta > limit) {
    // Wait until enough of the oldest buckets stop counting for `delta` to fit.
    let left = total
    let retryAt = now
    for (let i = 0; i < counts.length; i++) {
      left -= counts[i]!
      if (left + delta <= limit) {
        retryAt = droppedAt(oldest + i, width, w)
        break
      }
    }
    const last = lastUsed(counts)
    const resetAt = droppedAt(oldest + last, width, w)
    return {
      state,
      expiresAt: resetAt,
      outcome: { allowed: false, remaining: Math.max(0, limit - total), resetAt, retryAfter: retryAt - now },
    }
  }
  if (refund) {
    // Newest first, so a refund right after its consume undoes exactly that consume.
    let owed = delta
    for (let i = counts.length - 1; i >= 0 && owed > 0; i--) {
      const taken = Math.min(owed, counts[i]!)
      counts[i] = counts[i]! - taken
      owed -= taken
    }
  } else counts[counts.length - 1] = counts[counts.length - 1]! + delta
  const firstUsed = counts.findIndex((c) => c > 0)
  const remaining = Math.max(0, limit - counts.reduce((a, b) => a + b, 0))
  if (firstUsed < 0) {
    return {
      state: undefined,
      expiresAt: now,
      outcome: { allowed: true, remaining, resetAt: now, retryAfter: 0 },
    }
  }
  const last = lastUsed(counts)
  const resetAt = droppedAt(oldest + last, width, w)
  return {
    state: { first: oldest + firstUsed, counts: counts.slice(firstUsed, last + 1) },
    expiresAt: resetAt,
    outcome: { allowed: true, remaining, resetAt, retryAfter: 0 },
  }
}

/** The sliding-window-counter algorithm (see the module notes). */
export const slidingWindow: Algorithm<State> = {
  name: "sliding-window",
  consume: (state, now, cost, params) => decide(state, now, cost, false, params),
  refund: (state, now, amount, params) => decide(state, now, amount, true, params),
  lua: `
local width = ceildiv(window, ${SUB_WINDOWS})
local oldest = floordiv(now - window + 1, width)
local n = floordiv(now, width) - oldest
local counts = {}
for i = 0, n do counts[i] = 0 end
local stored = redis.call('GET', KEYS[1])
if stored then
  local first, rest = string.match(stored, '^(%d+):([%d,]+)$')
  if first then
    local index = tonumber(first) - oldest
    for c in string.gmatch(rest, '%d+') do
      if index >= 0 and index <= n then counts[index] = tonumber(c) end
      index = index + 1
    end
  end
end
local total = 0
for i = 0, n do total = total + counts[i] end
local function droppedAt(i) return (oldest + i + 1) * width + window - 1 end
local function lastUsed()
  for i = n, 0, -1 do if counts[i] > 0 then return i end end
  return -1
end
if op ~= 'r' and total + amount > limit then
  local left, retryAt = total, now
  for i = 0, n do
    left = left - counts[i]
    if left + amount <= limit then retryAt = droppedAt(i) break end
  end
  return reply(false, math.max(0, limit - total), droppedAt(lastUsed()), retryAt - now)
end
if op == 'r' then
  local owed = amount
  for i = n, 0, -1 do
    local taken = math.min(owed, counts[i])
    counts[i] = counts[i] - taken
    owed = owed - taken
  end
else
  counts[n] = counts[n] + amount
end
total = 0
for i = 0, n do total = total + counts[i] end
local last = lastUsed()
if last < 0 then
  redis.call('DEL', KEYS[1])
  return reply(true, math.max(0, limit - total), now, 0)
end
local firstUsed = 0
while counts[firstUsed] == 0 do firstUsed = firstUsed + 1 end
local parts = {}
for i = firstUsed, last do parts[#parts + 1] = fmt(counts[i]) end
local resetAt = droppedAt(last)
redis.call('SET', KEYS[1], fmt(oldest + firstUsed) .. ':' .. table.concat(parts, ','), 'PX', fmt(resetAt - now))
return reply(true, math.max(0, limit - total), resetAt, 0)
`,
}
