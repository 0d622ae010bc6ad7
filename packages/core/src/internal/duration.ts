import { Duration } from "effect"
import { InvalidDuration } from "../Errors.ts"

/**
 * The longest duration Strata accepts anywhere: 2^31 - 1 ms (about 24.8 days).
 * Node's `setTimeout` fires at once for longer delays, and tag versions rely
 * on no entry outliving this bound, so longer inputs are rejected, not clamped.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1

/**
 * Converts a user duration to whole milliseconds (rounded up, so "1.5 millis"
 * never becomes 1), or throws `InvalidDuration` saying what was wrong.
 * `allowZero` is for grace windows, where 0 means "no grace".
 */
export const toMillis = (input: Duration.Input, what: string, allowZero = false): number => {
  const parsed = Duration.fromInput(input)
  if (parsed._tag === "None") {
    throw new InvalidDuration({ message: `${what}: ${JSON.stringify(String(input))} is not a duration` })
  }
  const millis = Duration.toMillis(parsed.value)
  if (Number.isNaN(millis)) {
    throw new InvalidDuration({ message: `${what} is NaN` })
  }
  if (!Number.isFinite(millis) || millis > MAX_DURATION_MS) {
    throw new InvalidDuration({
      message: `${what} must be less than 2^31 ms (about 24.8 days), got ${String(input)}`,
    })
  }
  if (millis < 0 || (millis === 0 && !allowZero)) {
    throw new InvalidDuration({
      message: `${what} must be ${allowZero ? "zero or more" : "positive"}, got ${String(input)}`,
    })
  }
  return Math.ceil(millis)
}
