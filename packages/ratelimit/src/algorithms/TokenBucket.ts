/**
 * Token bucket: a bucket holds up to `burst` tokens and refills continuously
 * at `limit` tokens per `window`; a request takes `cost` tokens or is denied.
 * The classic shaping algorithm (Turner, "New directions in communications",
 * IEEE Communications Magazine, 1986; see also
 * https://en.wikipedia.org/wiki/Token_bucket). It admits bursts of up to
 * `burst` and at most `burst + limit × t / window` units in any span of `t`
 * ms.
 *
 * Exact in integers: tokens are counted in units of 1/window token, so a
 * millisecond refills exactly `limit` units and a token is `window` units
 * (burst × window must stay below 2^50). State: the units and the time of
 * the last update (Redis: the string `units:at`). A full bucket is no state
 * at all: the key expires at the moment the bucket would be full again.
 *
 * @since 0.1.0
 */
import { type Algorithm, ceilDiv, floorDiv, type Params, type Transition } from "../Algorithm.ts"

/** The bucket's content in 1/window tokens, as of `at` (epoch ms). */
export interface State {
  readonly units: number
  readonly at: number
}

/** The content at `now`: refilled by `limit` units a millisecond, up to the capacity. */
const level = (state: State | undefined, now: number, capacity: number, limit: number): number => {
  if (state === undefined) return capacity
  const elapsed = Math.max(0, now - state.at)
  // Past this many ms the bucket is full whatever it held; also keeps elapsed × limit exact.
  return elapsed >= ceilDiv(capacity, limit) ? capacity : Math.min(capacity, state.units + elapsed * limit)
}

const settle = (units: number, now: number, { limit, windowMillis, burst }: Params): Transition<State> => {
  const capacity = burst * windowMillis
  const fullIn = ceilDiv(capacity - units, limit)
  return {
    state: units < capacity ? { units, at: now } : undefined,
    expiresAt: now + fullIn,
    outcome: {
      allowed: true,
      remaining: floorDiv(units, windowMillis),
      resetAt: now + fullIn,
      retryAfter: 0,
    },
  }
}

/** The token-bucket algorithm (see the module notes). */
export const tokenBucket: Algorithm<State> = {
  name: "token-bucket",
  consume: (state, now, cost, params) => {
    const { limit, windowMillis, burst } = params
    const capacity = burst * windowMillis
    const units = level(state, now, capacity, limit)
    const need = cost * windowMillis
    if (need > units) {
      return {
        state,
        expiresAt: now + ceilDiv(capacity - units, limit),
        outcome: {
          allowed: false,
          remaining: floorDiv(units, windowMillis),
          resetAt: now + ceilDiv(capacity - units, limit),
          retryAfter: ceilDiv(need - units, limit),
        },
      }
    }
    return settle(units - need, now, params)
  },
  refund: (state, now, amount, params) => {
    const capacity = params.burst * params.windowMillis
    const units = level(state, now, capacity, params.limit)
    return settle(Math.min(capacity, units + amount * params.windowMillis), now, params)
  },
  lua: `
local capacity = burst * window
local units = capacity
local stored = redis.call('GET', KEYS[1])
if stored then
  local u, at = string.match(stored, '^(%d+):(%d+)$')
  if u then
    local elapsed = math.max(0, now - tonumber(at))
    if elapsed < ceildiv(capacity, limit) then units = math.min(capacity, tonumber(u) + elapsed * limit) end
  end
end
if op == 'r' then
  units = math.min(capacity, units + amount * window)
else
  local need = amount * window
  if need > units then
    return reply(false, floordiv(units, window), now + ceildiv(capacity - units, limit), ceildiv(need - units, limit))
  end
  units = units - need
end
local fullIn = ceildiv(capacity - units, limit)
if units < capacity then
  redis.call('SET', KEYS[1], fmt(units) .. ':' .. fmt(now), 'PX', fmt(fullIn))
else
  redis.call('DEL', KEYS[1])
end
return reply(true, floordiv(units, window), now + fullIn, 0)
`,
}
