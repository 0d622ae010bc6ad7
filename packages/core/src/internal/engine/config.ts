/**
 * The cache's options, checked and resolved once when the cache is built:
 * every number and duration is validated (a typed `InvalidArgument` or
 * `InvalidDuration`, never a silent default), defaults are filled in, and
 * the result is frozen. The hot path reads fields of this object; nothing
 * is parsed per call.
 */
import * as Argument from "../../Argument.ts"
import type { Service as BusService } from "../../Bus.ts"
import type { Options } from "../../Cache.ts"
import { InvalidArgument, InvalidDuration } from "../../Errors.ts"
import type { Service as StoreService } from "../../Store.ts"
import { toMillis } from "../duration.ts"

/** Resolved bounds of the in-process tier. */
export interface L1Config {
  readonly maxEntries: number
  readonly maxBytes: number
  /** Longest an L1 copy stays fresh, ms (`Infinity`: the entry's own TTL). */
  readonly maxTtl: number
  /** While the bus may be missing invalidations, an L1 copy older than this (ms) is not served. */
  readonly busDownMaxTtl: number
}

/** The resolved options of one cache. */
export interface Config {
  readonly name: string
  readonly l1: L1Config | undefined
  readonly maxEntryBytes: number
  readonly lease: { readonly ttl: number; readonly poll: number } | undefined
  readonly softTimeout: number | undefined
  readonly hardTimeout: number | undefined
  readonly circuit: { readonly failures: number; readonly cooldown: number } | undefined
  readonly spans: "auto" | boolean
  readonly metricsInterval: number
  /** What `get` and `getMany` do when the shared tier fails: answer a miss, or fail. */
  readonly l2ReadErrors: "miss" | "fail"
  readonly fillGuards: boolean
}

/** The key `@strata/core/testing`'s `withoutFillGuards` sets: not part of the options' type. */
export const UNGUARDED: unique symbol = Symbol.for("@strata/core/testing/withoutFillGuards")

/** Default bounds; each is documented on its option in `CacheOptions.ts`. */
export const DEFAULTS = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  maxTtlWithoutBus: 5_000,
  busDownMaxTtl: 250,
  leaseTtl: 5_000,
  leasePoll: 50,
  circuitFailures: 5,
  circuitCooldown: 250,
  metricsInterval: 1_000,
} as const

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** `value` as an options object (or `{}` when absent); `InvalidArgument` when it is something else. */
/**
 * The options each section takes. The top level also lists what `Cache.layer`
 * (`l2`, `bus`) and `createCache` (`loaderCycles`, `logger`, `otlp`) read
 * from the same object.
 */
const KNOWN: Record<string, ReadonlyArray<string>> = {
  options: [
    "name",
    "l1",
    "maxEntryBytes",
    "lease",
    "loader",
    "circuitBreaker",
    "spans",
    "metricsIntervalMillis",
    "l2ReadErrors",
    "l2",
    "bus",
    "loaderCycles",
    "logger",
    "otlp",
  ],
  l1: ["maxEntries", "maxBytes", "maxTtl", "busDownMaxTtl"],
  lease: ["ttl", "pollInterval"],
  circuitBreaker: ["failures", "cooldown"],
  loader: ["softTimeout", "hardTimeout"],
}

/** An options object; an option it does not know (a typo, an option of another library) is `InvalidArgument`. */
const section = (argument: string, value: unknown): Record<string, unknown> => {
  if (value === undefined) return {}
  if (!isRecord(value))
    throw new InvalidArgument({ argument, message: `${argument} must be an object, got ${typeof value}` })
  const known = KNOWN[argument]!
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new InvalidArgument({
        argument: argument === "options" ? key : `${argument}.${key}`,
        message: `unknown option ${JSON.stringify(key)}${argument === "options" ? "" : ` in ${argument}`}; the options are ${known.join(", ")}`,
      })
  }
  return value
}

const optionalDuration = (value: unknown, what: string): number | undefined =>
  value === undefined ? undefined : toMillis(value as never, what)

const durationOr = (value: unknown, what: string, fallback: number): number =>
  value === undefined ? fallback : toMillis(value as never, what)

const oneOf = <A extends string>(
  argument: string,
  value: unknown,
  allowed: ReadonlyArray<A>,
  fallback: A,
): A => {
  if (value === undefined) return fallback
  if (!allowed.includes(value as A)) {
    throw new InvalidArgument({
      argument,
      message: `${argument} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${String(value)}`,
    })
  }
  return value as A
}

const spansOption = (value: unknown): "auto" | boolean => {
  if (value === undefined || value === "auto") return "auto"
  if (typeof value === "boolean") return value
  throw new InvalidArgument({
    argument: "spans",
    message: `spans must be "auto", true or false, got ${String(value)}`,
  })
}

/**
 * Checks and resolves a cache's options. Throws `InvalidArgument` or
 * `InvalidDuration` naming the option that is wrong.
 */
export const parse = (
  input: Options | undefined,
  l2: StoreService | undefined,
  bus: BusService | undefined,
): Config => {
  try {
    return parseReadable(input, l2, bus)
  } catch (error) {
    if (error instanceof InvalidArgument || error instanceof InvalidDuration) throw error
    // A getter or proxy trap that throws somewhere in the options.
    throw new InvalidArgument({
      argument: "options",
      message: `the options could not be read: ${String(error)}`,
    })
  }
}

const parseReadable = (
  input: Options | undefined,
  l2: StoreService | undefined,
  bus: BusService | undefined,
): Config => {
  const options = section("options", input)
  if (options.name !== undefined && typeof options.name !== "string")
    throw new InvalidArgument({ argument: "name", message: "name must be a string" })
  const sharedWithoutBus = l2 !== undefined && !l2.capabilities.local && bus === undefined
  let l1: L1Config | undefined
  if (options.l1 !== false) {
    const o = section("l1", options.l1)
    l1 = {
      maxEntries: Argument.optionalInteger("l1.maxEntries", o.maxEntries, DEFAULTS.maxEntries, { min: 1 }),
      maxBytes: Argument.optionalInteger("l1.maxBytes", o.maxBytes, DEFAULTS.maxBytes, { min: 1 }),
      maxTtl: durationOr(
        o.maxTtl,
        "l1.maxTtl",
        sharedWithoutBus ? DEFAULTS.maxTtlWithoutBus : Number.POSITIVE_INFINITY,
      ),
      busDownMaxTtl: durationOr(o.busDownMaxTtl, "l1.busDownMaxTtl", DEFAULTS.busDownMaxTtl),
    }
  }
  let lease: Config["lease"]
  if (options.lease !== false) {
    const o = section("lease", options.lease)
    lease = {
      ttl: durationOr(o.ttl, "lease.ttl", DEFAULTS.leaseTtl),
      poll: durationOr(o.pollInterval, "lease.pollInterval", DEFAULTS.leasePoll),
    }
  }
  let circuit: Config["circuit"]
  if (options.circuitBreaker !== false) {
    const o = section("circuitBreaker", options.circuitBreaker)
    circuit = {
      failures: Argument.optionalInteger("circuitBreaker.failures", o.failures, DEFAULTS.circuitFailures, {
        min: 1,
      }),
      cooldown: durationOr(o.cooldown, "circuitBreaker.cooldown", DEFAULTS.circuitCooldown),
    }
  }
  const loader = section("loader", options.loader)
  return Object.freeze({
    name: (options.name as string | undefined) ?? "default",
    l1: l1 === undefined ? undefined : Object.freeze(l1),
    maxEntryBytes: Argument.optionalInteger("maxEntryBytes", options.maxEntryBytes, DEFAULTS.maxEntryBytes, {
      min: 1,
    }),
    lease,
    softTimeout: optionalDuration(loader.softTimeout, "loader.softTimeout"),
    hardTimeout: optionalDuration(loader.hardTimeout, "loader.hardTimeout"),
    circuit,
    spans: spansOption(options.spans),
    metricsInterval: Argument.optionalMillis(
      "metricsIntervalMillis",
      options.metricsIntervalMillis,
      DEFAULTS.metricsInterval,
    ),
    l2ReadErrors: oneOf("l2ReadErrors", options.l2ReadErrors, ["miss", "fail"], "miss"),
    fillGuards: (options as Record<PropertyKey, unknown>)[UNGUARDED] !== true,
  })
}
