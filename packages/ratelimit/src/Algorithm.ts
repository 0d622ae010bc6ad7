/**
 * The contract every rate-limiting algorithm fulfils, once in TypeScript (the
 * memory store, exact to the millisecond with integer arithmetic) and once in
 * Lua (the Redis store: one script call per decision, Redis's own clock).
 * Both forms take the same parameters and give the same {@link Outcome}.
 *
 * All quantities are integers: times and durations in milliseconds, amounts
 * in requests (or units of cost). Rates that are fractions of a request per
 * millisecond are kept exact by scaling (see each algorithm's notes), never
 * with floating point, so a decision never depends on rounding.
 *
 * @since 0.1.0
 */

/** The five algorithms. */
export type Name = "fixed-window" | "sliding-log" | "sliding-window" | "token-bucket" | "gcra"

/** Every algorithm name, in the order the docs present them. */
export const names: ReadonlyArray<Name> = [
  "fixed-window",
  "sliding-log",
  "sliding-window",
  "token-bucket",
  "gcra",
]

/** A limiter's numbers, already checked: all whole numbers of at least 1. */
export interface Params {
  /** Requests (units of cost) admitted per window. */
  readonly limit: number
  /** The window, in ms. For token bucket and GCRA: `limit` units are refilled per window. */
  readonly windowMillis: number
  /** Token bucket and GCRA: the most units admitted at once (the bucket's size). Windows: equal to `limit`. */
  readonly burst: number
}

/** The answer to one request (or one refund). */
export interface Outcome {
  /** Whether the request is admitted (and its cost counted). A refund is always `true`. */
  readonly allowed: boolean
  /** The largest cost a request made right now would be admitted with (0 to the capacity). */
  readonly remaining: number
  /** Epoch ms at which the full capacity is available again if no more requests come; `now` when it already is. */
  readonly resetAt: number
  /** Denied: ms to wait before the same request would be admitted (at least 1). Admitted: 0. */
  readonly retryAfter: number
}

/** What an algorithm step leaves behind: the new state (or none: nothing to keep), and how long to keep it. */
export interface Transition<S> {
  /** `undefined`: the key holds nothing worth keeping (delete it). */
  readonly state: S | undefined
  /** Epoch ms after which the state is worthless (the store drops it then). */
  readonly expiresAt: number
  readonly outcome: Outcome
}

/** One algorithm: its exact TypeScript steps and its Lua script. */
export interface Algorithm<S> {
  readonly name: Name
  /**
   * Counts `cost` (>= 1, <= the capacity) at `now` (epoch ms) if the limit
   * allows it. A denied request changes nothing.
   */
  readonly consume: (state: S | undefined, now: number, cost: number, params: Params) => Transition<S>
  /** Gives back `amount` (>= 1) units counted earlier: never below an empty state. */
  readonly refund: (state: S | undefined, now: number, amount: number, params: Params) => Transition<S>
  /**
   * The Lua body (after {@link LUA_PRELUDE} and the helpers it calls: `fmt`, `floordiv`, `ceildiv`): KEYS[1] the state key; reads
   * `op` ('c' consume, 'r' refund), `amount`, `limit`, `window`, `burst` and
   * `now` (Redis's `TIME`, ms); returns `reply(allowed, remaining, resetAt,
   * retryAfter)`. Every write sets the key's TTL in the same call.
   */
  readonly lua: string
}

/**
 * The head of every script: the arguments as numbers, and `now` from Redis's
 * own clock (`TIME`: seconds and microseconds), so callers whose clocks
 * disagree still share one timeline. `ARGV[6]`, when given, is the caller's
 * deadline in the server's time: past it the script refuses (`STRATA_LATE`,
 * a `Timeout`) rather than count a decision nobody waits for (ADR 0008). Integers up to 2^53 are exact in Lua's
 * doubles. Numbers written into stored values go through
 * `fmt` (`string.format("%d")`: Lua's `..` and `tostring` print `%.14g`, which
 * loses digits past 1e14); the reply is four integers, which Redis sends as
 * integer replies, exact because every one stays below 2^51 (the limiter's
 * numbers are bounded so: burst × window and limit × window below 2^50).
 */
export const LUA_PRELUDE = `
local op = ARGV[1]
local amount = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local burst = tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local deadline = tonumber(ARGV[6])
if deadline ~= nil and now >= deadline then
  return redis.error_reply('STRATA_LATE the caller stopped waiting before Redis ran the decision')
end
local function reply(allowed, remaining, resetAt, retryAfter)
  return { allowed and 1 or 0, remaining, resetAt, retryAfter }
end
`

/**
 * Helpers a script body may call, each put after {@link LUA_PRELUDE} only
 * when the body uses it: a Lua closure is built on every call of the script,
 * and these cost a sixth of the cheapest script's server time.
 */
const LUA_HELPERS: ReadonlyArray<readonly [name: string, source: string]> = [
  ["fmt", "local function fmt(n) return string.format('%d', n) end"],
  [
    "floordiv",
    `local function floordiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end`,
  ],
  ["ceildiv", "local function ceildiv(a, b) return floordiv(a + b - 1, b) end"],
]

/** The whole script of an algorithm's Lua body: the prelude, the helpers it calls, the body. */
export const luaScript = (body: string): string => {
  const uses = (name: string) => new RegExp(`\\b${name}\\(`).test(body)
  const helpers = LUA_HELPERS.filter(([name]) => uses(name) || (name === "floordiv" && uses("ceildiv"))).map(
    ([, source]) => source,
  )
  return `${LUA_PRELUDE}${helpers.join("\n")}\n${body}`
}

/**
 * Integer division rounded down, exact for integers below 2^53 (a double
 * quotient can round up to the next integer when it is just below it).
 */
export const floorDiv = (a: number, b: number): number => {
  let q = Math.floor(a / b)
  if (q * b > a) q -= 1
  else if ((q + 1) * b <= a) q += 1
  return q
}

/** Integer division rounded up, for non-negative integers below 2^53. */
export const ceilDiv = (a: number, b: number): number => floorDiv(a + b - 1, b)
