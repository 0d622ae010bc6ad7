/**
 * The typed failures of Strata. Each is a `Schema.TaggedError`, so it is an
 * `Error` subclass with a `_tag`: Effect code branches on it with
 * `Effect.catchTag`, Promise code with `instanceof` or `error._tag`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A keyspace definition is wrong: a bad name, a bad TTL, a bad version. Thrown
 * by `Keyspace.make` when the module that declares the keyspace loads, so it
 * shows up at startup, not on the first request.
 *
 * @example
 * ```ts
 * Keyspace.make({ name: "User Profile", ... }) // throws InvalidKeyspace
 * ```
 */
export class InvalidKeyspace extends Schema.TaggedError<InvalidKeyspace>()("InvalidKeyspace", {
  message: Schema.String,
}) {}

/**
 * A duration given to Strata is not usable: zero or negative where a positive
 * one is needed, `NaN`, infinite, unparsable, or 2^31 ms (about 24.8 days) or
 * more. Strata rejects such durations instead of clamping them so a typo never
 * turns into an entry that lives for ever or expires at once.
 */
export class InvalidDuration extends Schema.TaggedError<InvalidDuration>()("InvalidDuration", {
  message: Schema.String,
}) {}

/**
 * A key does not match its keyspace's key schema, or cannot be encoded
 * (a non-finite number, a lone surrogate, a class instance). Raised before any
 * I/O, so nothing was read or written.
 */
export class InvalidKey extends Schema.TaggedError<InvalidKey>()("InvalidKey", {
  keyspace: Schema.String,
  message: Schema.String,
}) {}

/**
 * A value does not match its keyspace's value schema, or its encoded form
 * cannot be stored exactly (a function, a symbol, a cycle, `-0`, a lone
 * surrogate, a `__proto__` key). Raised before any write: nothing was stored.
 */
export class InvalidValue extends Schema.TaggedError<InvalidValue>()("InvalidValue", {
  keyspace: Schema.String,
  message: Schema.String,
}) {}

/**
 * An encoded entry is larger than the cache's `maxEntryBytes` (1 MiB by
 * default). Nothing was written.
 */
export class EntryTooLarge extends Schema.TaggedError<EntryTooLarge>()("EntryTooLarge", {
  keyspace: Schema.String,
  bytes: Schema.Number,
  limit: Schema.Number,
}) {
  override get message(): string {
    return `An entry of keyspace "${this.keyspace}" encodes to ${this.bytes} bytes, over the limit of ${this.limit} bytes; nothing was written`
  }
}

/**
 * Why a store call failed, and so whether a write may have happened:
 *
 * - `"unreachable"`: the call was never sent (no connection, or the store is
 *   not accepting commands); nothing was written.
 * - `"rejected"`: the store answered with an error (a permission, memory, or
 *   script error); nothing was written.
 * - `"connection-lost"`: the call was sent and the connection dropped before
 *   the answer; a write's outcome is unknown.
 * - `"circuit-open"`: the cache's circuit breaker refused the call because
 *   the tier failed repeatedly; nothing was sent.
 * - `"startup"`: the store could not start (connection, credentials, a
 *   missing permission, a bad option).
 * - `"out-of-range"`: the store refused an increment whose count would
 *   leave ±(2^53 − 1); nothing was written (the cache reports it as
 *   `InvalidArgument`).
 */
export const StoreFailureReason = Schema.Literals([
  "unreachable",
  "rejected",
  "connection-lost",
  "circuit-open",
  "startup",
  "out-of-range",
])
export type StoreFailureReason = typeof StoreFailureReason.Type

/**
 * A store (a tier) could not be reached or answered with an error. `reason`
 * says which, and so whether a write may still have happened (see
 * {@link StoreFailureReason}); `cause` keeps the driver's own error for logs.
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  store: Schema.String,
  operation: Schema.String,
  reason: StoreFailureReason,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/**
 * An operation did not finish within its time limit. For a write, the outcome
 * is unknown: the store may still apply it later, so Strata never retries it
 * blindly.
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  operation: Schema.String,
  millis: Schema.Number,
}) {
  override get message(): string {
    return `${this.operation} did not finish within ${this.millis} ms`
  }
}

/**
 * A loader given to `getOrSet` (or the function given to `update`) threw,
 * rejected or died. Effect loaders keep their own typed errors; this wraps
 * what is not typed (a Promise rejection in the Promise facade, a defect).
 * `cause` is the original error.
 */
export class LoaderFailed extends Schema.TaggedError<LoaderFailed>()("LoaderFailed", {
  keyspace: Schema.String,
  cause: Schema.Defect(),
}) {
  override get message(): string {
    const cause = this.cause
    const detail = cause instanceof Error ? cause.message : String(cause)
    return `The loader of keyspace "${this.keyspace}" failed: ${detail}`
  }
}

/** The failures a store operation can end with. */
export type StoreError = StoreUnavailable | Timeout

/**
 * Whether a failed write may still have been applied by the store: always
 * after a `Timeout`, and after a connection lost with the call in flight.
 * The cache invalidates the key everywhere in that case, since it cannot
 * know which value the store holds.
 */
export const outcomeUnknown = (error: StoreError): boolean =>
  error._tag === "Timeout" || error.reason === "connection-lost"

/**
 * A number or an option given to Strata is not usable: `NaN`, infinite, a
 * fraction where a whole number is needed, out of its documented range, or
 * not a number at all. Raised before any I/O, so nothing was read or
 * written. `argument` names the input (`"increment.by"`,
 * `"l1.maxEntries"`, `"commandTimeoutMillis"`, ...).
 */
export class InvalidArgument extends Schema.TaggedError<InvalidArgument>()("InvalidArgument", {
  argument: Schema.String,
  message: Schema.String,
}) {}

/**
 * The cache was closed: the call came after `close()`, or was still in
 * flight when `close()` ran (its work was interrupted, or ended after the
 * close; a write in flight may or may not have reached the store, like any
 * write whose connection closes). Nothing more is read or written by this
 * cache.
 */
export class CacheClosed extends Schema.TaggedError<CacheClosed>()("CacheClosed", {
  message: Schema.String,
}) {}

/**
 * A loader asked, directly or through other loaders, for a key whose load
 * it is part of. Waiting would never end (the load waits for itself), so the
 * inner call fails at once; `key` is the storage key asked for.
 */
export class LoaderCycle extends Schema.TaggedError<LoaderCycle>()("LoaderCycle", {
  keyspace: Schema.String,
  key: Schema.String,
}) {
  override get message(): string {
    return `A loader of keyspace "${this.keyspace}" asked for key ${JSON.stringify(this.key)}, whose load it is part of: the load would wait for itself`
  }
}

/**
 * The bus could not publish an invalidation. The write it announces already
 * happened on the shared tier; other processes converge when their L1 entries
 * expire or on their next gap.
 */
export class BusUnavailable extends Schema.TaggedError<BusUnavailable>()("BusUnavailable", {
  bus: Schema.String,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}

/**
 * `update` read, computed and tried to write `attempts` times and every time
 * another write of the key got there first (heavy contention on one key).
 * Nothing was written by this call; retrying later is safe.
 */
export class UpdateConflict extends Schema.TaggedError<UpdateConflict>()("UpdateConflict", {
  keyspace: Schema.String,
  key: Schema.String,
  attempts: Schema.Number,
}) {
  override get message(): string {
    return `update of ${JSON.stringify(this.key)} in keyspace "${this.keyspace}" lost ${this.attempts} compare-and-set races in a row; nothing was written`
  }
}
