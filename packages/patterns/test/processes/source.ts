import type { StoreError } from "@strata/core"
import type { WriteBehindStream } from "@strata/patterns/redis"
import type { RedisConnection } from "@strata/redis"
import { Effect } from "effect"

/**
 * A "database" for durable write-behind tests, kept in Redis so that several
 * processes share it: values and their versions in two hashes, and a count
 * of writes it ignored (replays and older writes). Applying a write is the
 * idempotency contract: only a version above the stored one changes the row.
 * On a Cluster, give `name` a hash tag (`{src}`): the script takes its three keys.
 */
const APPLY = `
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current and current >= ARGV[3] then redis.call('INCR', KEYS[3]) return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
`

export const sourceKeys = (name: string) => [`${name}:values`, `${name}:versions`, `${name}:ignored`] as const

/** A flush writing each key's newest value if its version is newer than the stored one. */
export const versionedFlush =
  (connection: RedisConnection.Connection, name: string) =>
  (batch: ReadonlyArray<WriteBehindStream.StreamWrite<number, number>>): Effect.Effect<void, StoreError> =>
    Effect.forEach(
      batch,
      (write) =>
        connection.call("apply", (client) =>
          client.eval(APPLY, 3, ...sourceKeys(name), String(write.key), String(write.value), write.version),
        ),
      { discard: true },
    )

/** What the source holds: values by key, and how many writes it ignored. */
export const readSource = (connection: RedisConnection.Connection, name: string) =>
  Effect.gen(function* () {
    const [values, , ignored] = sourceKeys(name)
    const rows = yield* connection.call("hgetall", (client) => client.hgetall(values))
    const skipped = yield* connection.call("get", (client) => client.get(ignored))
    return {
      rows: new Map(Object.entries(rows).map(([k, v]) => [Number(k), Number(v)])),
      ignored: Number(skipped ?? 0),
    }
  })
