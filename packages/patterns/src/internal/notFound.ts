/**
 * Negative caching for repositories: ids the source had no row for are
 * remembered in a keyspace of their own (`<name>.not-found`, value `true`,
 * the TTL the repository declares), so asking again for an id that does not
 * exist does not reach the source until the marker expires or the id is
 * invalidated or written. Markers are read in one round trip per batch of
 * misses and written in one; a store failure on either is reported to
 * `onStoreError` and the read goes on without them.
 */
import {
  type Cache,
  type CacheClosed,
  type InvalidKey,
  Keyspace,
  type StoreError,
  type StoreFailed,
} from "@strata/core"
import { type Duration, Effect, Option, Schema } from "effect"

/** The options of negative caching. */
export interface NotFoundOptions {
  /** How long "no row" is remembered; keep it short (ids can be created). */
  readonly ttl: Duration.Input
  /** Receives the store failures of marker reads and writes (the read goes on without markers). */
  readonly onStoreError: (event: StoreFailed) => void
}

const isStoreError = (error: unknown): error is StoreError => {
  const tag = (error as { _tag?: unknown })._tag
  return tag === "StoreUnavailable" || tag === "Timeout"
}

/** The markers of a repository's keyspace. Throws `InvalidKeyspace` for a bad TTL or a name over 54 characters. */
export const make = <K, V>(
  cache: Cache.Service,
  keyspace: Keyspace.Keyspace<K, V>,
  options: NotFoundOptions,
) => {
  const markers = Keyspace.make({
    name: `${keyspace.name}.not-found`,
    key: keyspace.keySchema as Keyspace.AnySchema,
    value: Schema.Literal(true),
    ttl: options.ttl,
    version: keyspace.version,
  }) as Keyspace.Keyspace<K, true>
  const report = (operation: string) => (error: unknown) => {
    if (!isStoreError(error)) return Effect.die(error)
    return Effect.sync(() =>
      options.onStoreError({ _tag: "StoreFailed", keyspace: markers.id, operation, error }),
    )
  }
  return {
    keyspace: markers,
    /** Whether each id is marked as not found (a failed read: none is). */
    marked: (ids: ReadonlyArray<K>): Effect.Effect<ReadonlyArray<boolean>> =>
      cache.getMany(markers, ids).pipe(
        Effect.map((found) => found.map(Option.isSome)),
        Effect.catch((error) =>
          Effect.as(
            report("getMany")(error),
            ids.map(() => false),
          ),
        ),
      ),
    /** Marks ids as not found. */
    mark: (ids: ReadonlyArray<K>): Effect.Effect<void> =>
      cache
        .setMany(
          markers,
          ids.map((id) => [id, true] as const),
        )
        .pipe(Effect.catch(report("setMany"))),
    /** Drops the marker of an id (it was written or invalidated). */
    unmark: (id: K): Effect.Effect<void, InvalidKey | StoreError | CacheClosed> => cache.delete(markers, id),
  }
}
