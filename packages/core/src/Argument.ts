/**
 * Checks of numeric inputs, shared by Strata's packages and available to
 * store and bus drivers: every number a user gives (an option, a count, an
 * amount) is checked before any I/O, and a bad one is an `InvalidArgument`
 * naming the input, never a silent default. `Duration.fromInput` alone is
 * not enough: it turns `NaN`, `{}` and tiny values into zero.
 *
 * @since 0.1.0
 */
import { InvalidArgument } from "./Errors.ts"
import { MAX_DURATION_MS } from "./internal/duration.ts"

/** The bounds of an integer input (inclusive). */
export interface IntegerBounds {
  readonly min?: number | undefined
  readonly max?: number | undefined
}

const describe = (value: unknown): string =>
  typeof value === "number"
    ? Object.is(value, -0)
      ? "-0"
      : String(value)
    : typeof value === "string"
      ? JSON.stringify(value)
      : value === null
        ? "null"
        : typeof value

/**
 * `value` if it is a whole number (a safe integer, `-0` read as 0) within
 * `bounds`; throws `InvalidArgument` naming `argument` otherwise (a string,
 * `NaN`, an infinity, a fraction, a number past 2^53 − 1).
 *
 * @example
 * ```ts
 * Argument.integer("l1.maxEntries", 10_000, { min: 1 }) // 10000
 * Argument.integer("l1.maxEntries", 1.5, { min: 1 })    // throws InvalidArgument
 * ```
 */
export const integer = (argument: string, value: unknown, bounds: IntegerBounds = {}): number => {
  const min = bounds.min ?? Number.MIN_SAFE_INTEGER
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range =
      bounds.min !== undefined && bounds.max !== undefined
        ? ` from ${min} to ${max}`
        : bounds.min !== undefined
          ? ` of at least ${min}`
          : bounds.max !== undefined
            ? ` of at most ${max}`
            : " (a safe integer)"
    throw new InvalidArgument({
      argument,
      message: `${argument} must be a whole number${range}, got ${describe(value)}`,
    })
  }
  return value === 0 ? 0 : value
}

/**
 * `value` if it is a whole number of milliseconds from 1 (or 0 with
 * `allowZero`) up to 2^31 − 1 (about 24.8 days, the longest delay a Node
 * timer honours); throws `InvalidArgument` otherwise.
 */
export const millis = (argument: string, value: unknown, allowZero = false): number =>
  integer(argument, value, { min: allowZero ? 0 : 1, max: MAX_DURATION_MS })

/** `integer` for an optional input: `fallback` when `value` is `undefined`. */
export const optionalInteger = (
  argument: string,
  value: unknown,
  fallback: number,
  bounds: IntegerBounds = {},
): number => (value === undefined ? fallback : integer(argument, value, bounds))

/** `millis` for an optional input: `fallback` when `value` is `undefined`. */
export const optionalMillis = (
  argument: string,
  value: unknown,
  fallback: number,
  allowZero = false,
): number => (value === undefined ? fallback : millis(argument, value, allowZero))
