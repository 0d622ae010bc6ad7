/**
 * Checks of option objects shared by the writers: an option name they do
 * not know (a misspelling would otherwise fall back to its default without
 * a word), and the shapes of non-numeric options. Each throws core's
 * `InvalidArgument` naming the option, as core's `Keyspace.make` and the
 * rate limiter do; numbers are checked with core's `Argument`.
 */
import { InvalidArgument, Keyspace } from "@strata/core"
import { Predicate } from "effect"

const describe = (value: unknown): string =>
  typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value

/**
 * `options` as a record whose every name is in `known`; throws
 * `InvalidArgument` for a value that is not an object (`argument`) or an
 * unknown name (`<prefix><name>`, listing the valid ones).
 */
export const knownOptions = (
  argument: string,
  options: unknown,
  known: ReadonlyArray<string>,
  prefix = "",
): Readonly<Record<string, unknown>> => {
  if (!Predicate.isObject(options))
    throw new InvalidArgument({
      argument,
      message: `${argument} must be an object, got ${describe(options)}`,
    })
  for (const name of Object.keys(options))
    if (!known.includes(name))
      throw new InvalidArgument({
        argument: `${prefix}${name}`,
        message: `unknown option ${JSON.stringify(`${prefix}${name}`)}; the options are ${known.join(", ")}`,
      })
  return options as Readonly<Record<string, unknown>>
}

/** `value` if it is a non-empty string, `fallback` when it is `undefined`; throws `InvalidArgument` otherwise. */
export const optionalName = (argument: string, value: unknown, fallback: () => string): string => {
  if (value === undefined) return fallback()
  if (typeof value !== "string" || value.length === 0)
    throw new InvalidArgument({
      argument,
      message: `${argument} must be a non-empty string, got ${describe(value)}`,
    })
  return value
}

/** `value` if it is a boolean, `fallback` when it is `undefined`; throws `InvalidArgument` otherwise. */
export const optionalBoolean = (argument: string, value: unknown, fallback: boolean): boolean => {
  if (value === undefined) return fallback
  if (typeof value !== "boolean")
    throw new InvalidArgument({
      argument,
      message: `${argument} must be true or false, got ${describe(value)}`,
    })
  return value
}

/** `value` if it is a function; throws `InvalidArgument` otherwise (a missing `flush` would fail every flush). */
export const requiredFunction = <F>(argument: string, value: unknown, what: string): F => {
  if (typeof value !== "function")
    throw new InvalidArgument({ argument, message: `${what}, got ${describe(value)}` })
  return value as F
}

/** `value` if it is a keyspace (`Keyspace.make` or `Keyspace.counter`); throws `InvalidArgument` otherwise. */
export const requiredKeyspace = <K, V>(value: unknown): Keyspace.Keyspace<K, V> => {
  if (!Keyspace.isKeyspace(value))
    throw new InvalidArgument({
      argument: "keyspace",
      message: `keyspace must be made by Keyspace.make or Keyspace.counter, got ${describe(value)}`,
    })
  return value as Keyspace.Keyspace<K, V>
}
