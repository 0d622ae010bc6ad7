/**
 * GCRA, the Generic Cell Rate Algorithm of ATM networks (ATM Forum Traffic
 * Management Specification 4.0, 1996; ITU-T I.371), in its "virtual
 * scheduling" form as Brandur Leach describes it for rate limiting
 * (https://brandur.org/rate-limiting) and redis-cell implements it: each key
 * keeps one number, the theoretical arrival time (TAT) of the next request.
 * With emission interval `T = window / limit`, a request of cost `c` at
 * `now` is admitted when `max(TAT, now) + c·T − now <= burst·T`, and then
 * `TAT = max(TAT, now) + c·T`. Same admissions as a token bucket of size
 * `burst` refilled at `limit` per `window` (the tests prove it), with one
 * number of state and no refill arithmetic.
 *
 * Exact in integers: time is counted in ticks of 1/limit ms, so `T` is
 * exactly `window` ticks (burst × window must stay below 2^50). The TAT is
 * kept as whole ms plus a remainder in ticks (Redis: the string `ms:ticks`),
 * so no stored number exceeds an epoch in ms. The key expires at the TAT,
 * after which it would change nothing.
 *
 * @since 0.1.0
 */
import { type Algorithm, ceilDiv, floorDiv, type Params, type Transition } from "../Algorithm.ts"

/** The theoretical arrival time: `ms` (epoch) plus `ticks` of 1/limit ms, `0 <= ticks < limit`. */
export interface State {
  readonly ms: number
  readonly ticks: number
}

/** How far the TAT is ahead of `now`, in ticks (0 when it is not). */
const ahead = (state: State | undefined, now: number, limit: number): number =>
  state === undefined || state.ms < now ? 0 : (state.ms - now) * limit + state.ticks

const settle = (backlog: number, now: number, { limit, windowMillis, burst }: Params): Transition<State> => {
  const resetAt = now + ceilDiv(backlog, limit)
  return {
    state: backlog > 0 ? { ms: now + floorDiv(backlog, limit), ticks: backlog % limit } : undefined,
    expiresAt: resetAt,
    outcome: {
      allowed: true,
      remaining: floorDiv(burst * windowMillis - backlog, windowMillis),
      resetAt,
      retryAfter: 0,
    },
  }
}

/** The GCRA algorithm (see the module notes). */
export const gcra: Algorithm<State> = {
  name: "gcra",
  consume: (state, now, cost, params) => {
    const { limit, windowMillis, burst } = params
    const backlog = ahead(state, now, limit)
    const next = backlog + cost * windowMillis
    const tolerance = burst * windowMillis
    if (next > tolerance) {
      return {
        state,
        expiresAt: now + ceilDiv(backlog, limit),
        outcome: {
          allowed: false,
          remaining: floorDiv(tolerance - backlog, windowMillis),
          resetAt: now + ceilDiv(backlog, limit),
          retryAfter: ceilDiv(next - tolerance, limit),
        },
      }
    }
    return settle(next, now, params)
  },
  refund: (state, now, amount, params) =>
    settle(Math.max(0, ahead(state, now, params.limit) - amount * params.windowMillis), now, params),
  lua: `
local tolerance = burst * window
local backlog = 0
local stored = redis.call('GET', KEYS[1])
if stored then
  local ms, ticks = string.match(stored, '^(%d+):(%d+)$')
  if ms and tonumber(ms) >= now then backlog = (tonumber(ms) - now) * limit + tonumber(ticks) end
end
local nextBacklog
if op == 'r' then
  nextBacklog = math.max(0, backlog - amount * window)
else
  nextBacklog = backlog + amount * window
  if nextBacklog > tolerance then
    return reply(false, floordiv(tolerance - backlog, window), now + ceildiv(backlog, limit), ceildiv(nextBacklog - tolerance, limit))
  end
end
local resetAt = now + ceildiv(nextBacklog, limit)
if nextBacklog > 0 then
  local q = floordiv(nextBacklog, limit)
  redis.call('SET', KEYS[1], fmt(now + q) .. ':' .. fmt(nextBacklog - q * limit), 'PX', fmt(resetAt - now))
else
  redis.call('DEL', KEYS[1])
end
return reply(true, floordiv(tolerance - nextBacklog, window), resetAt, 0)
`,
}
