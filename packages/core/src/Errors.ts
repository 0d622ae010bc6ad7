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
 * A store (a tier) could not be reached or answered with an error. `cause`
 * keeps the driver's own error for logs.
 */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  store: Schema.String,
  operation: Schema.String,
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
 * A loader given to `getOrSet` threw, rejected or died. Effect loaders keep
 * their own typed errors; this wraps what is not typed (a Promise rejection
 * in the Promise facade, a defect). `cause` is the original error.
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
 * The bus could not publish an invalidation. The write it announces already
 * happened on the shared tier; other processes converge when their L1 entries
 * expire or on their next gap.
 */
export class BusUnavailable extends Schema.TaggedError<BusUnavailable>()("BusUnavailable", {
  bus: Schema.String,
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
}) {}
