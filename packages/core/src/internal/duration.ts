import { Duration } from "effect"
import { InvalidDuration } from "../Errors.ts"

/**
 * The longest duration Strata accepts anywhere: 2^31 - 1 ms (about 24.8 days).
 * Node's `setTimeout` fires at once for longer delays, and tag versions rely
 * on no entry outliving this bound, so longer inputs are rejected, not clamped.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1

const UNITS = new Set([
  "weeks",
  "days",
  "hours",
  "minutes",
  "seconds",
  "milliseconds",
  "microseconds",
  "nanoseconds",
])

const finite = (n: unknown): boolean => typeof n === "number" && Number.isFinite(n)

/**
 * Whether `input` is a well-formed duration input, checked before Effect
 * parses it: `Duration.fromInput` reads `NaN`, `{}` and objects with unknown
 * or non-numeric fields as zero instead of refusing them.
 */
const wellFormed = (input: unknown): boolean => {
  try {
    return readable(input)
  } catch {
    // A getter or proxy trap that throws: not a duration.
    return false
  }
}

const readable = (input: unknown): boolean => {
  if (typeof input === "number") return !Number.isNaN(input)
  if (typeof input === "string" || typeof input === "bigint") return true
  if (typeof input !== "object" || input === null) return false
  if (Duration.isDuration(input)) return true
  if (Array.isArray(input)) return input.length === 2 && finite(input[0]) && finite(input[1])
  const keys = Object.keys(input)
  return (
    Object.getPrototypeOf(input) === Object.prototype &&
    keys.length > 0 &&
    keys.every((key) => UNITS.has(key) && finite((input as Record<string, unknown>)[key]))
  )
}

/**
 * Converts a user duration to whole milliseconds (rounded up, so "1.5 millis"
 * never becomes 1), or throws `InvalidDuration` saying what was wrong.
 * `allowZero` is for grace windows, where 0 means "no grace".
 */
export const toMillis = (input: Duration.Input, what: string, allowZero = false): number => {
  let text: string
  try {
    text = typeof input === "object" && input !== null ? JSON.stringify(input) : String(input)
  } catch {
    text = typeof input
  }
  let millis: number
  if (typeof input === "number") {
    // Read directly: Effect rounds sub-nanosecond numbers (even negative ones) to zero.
    millis = input
  } else {
    let parsed: ReturnType<typeof Duration.fromInput> | undefined
    try {
      parsed = wellFormed(input) ? Duration.fromInput(input) : undefined
    } catch {
      parsed = undefined
    }
    if (parsed === undefined || parsed._tag === "None") {
      throw new InvalidDuration({ message: `${what}: ${text} is not a duration` })
    }
    millis = Duration.toMillis(parsed.value)
  }
  if (Number.isNaN(millis)) {
    throw new InvalidDuration({ message: `${what} is NaN` })
  }
  if (!Number.isFinite(millis) || millis > MAX_DURATION_MS) {
    throw new InvalidDuration({
      message: `${what} must be less than 2^31 ms (about 24.8 days), got ${text}`,
    })
  }
  if (millis < 0 || (millis === 0 && !allowZero)) {
    throw new InvalidDuration({
      message: `${what} must be ${allowZero ? "zero or more" : "positive"}, got ${text}`,
    })
  }
  return Math.ceil(millis)
}

/**
 * The one rule for an entry's lifetime, whether it comes from a keyspace or
 * from per-call options: `ttl` (positive) and `staleFor` (zero or more) are
 * each valid durations and their sum stays within {@link MAX_DURATION_MS}.
 * Returns both in ms, or throws `InvalidDuration`.
 */
export const lifetime = (
  ttl: Duration.Input,
  staleFor: Duration.Input,
  what: string,
): { readonly ttl: number; readonly staleFor: number } => {
  const ttlMillis = toMillis(ttl, `${what}: ttl`)
  const staleForMillis = toMillis(staleFor, `${what}: staleFor`, true)
  if (ttlMillis + staleForMillis > MAX_DURATION_MS) {
    throw new InvalidDuration({
      message: `${what}: ttl + staleFor must stay under 2^31 ms (about 24.8 days), got ${ttlMillis} + ${staleForMillis} ms`,
    })
  }
  return { ttl: ttlMillis, staleFor: staleForMillis }
}
