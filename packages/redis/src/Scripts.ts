/**
 * The Lua scripts of the Redis store, declared once with their keys,
 * arguments and result. ioredis loads each one on first use and runs it by
 * SHA (`EVALSHA`), falling back to `EVAL` after a `NOSCRIPT` (a restarted or
 * flushed server), so callers never see a missing script.
 *
 * Every stored value starts with a header `<kind><version>:` where kind is
 * `v` (value), `t` (tombstone) or `c` (counter) and the version is a token
 * that changes on every write (plain `SET`s write a random one). Scripts read
 * only the header (`GETRANGE 0 23`) where they can, so a 1 MiB value is never
 * copied into Lua. Every script touches one key, except the conditional lease,
 * which the store uses on a Cluster only when its two keys share a slot.
 *
 * @since 0.1.0
 */

/** A script: its name (the ioredis command it becomes), its Lua body, how many keys it takes. */
export interface Script<Args extends ReadonlyArray<string | number | Uint8Array>, Result> {
  readonly name: string
  readonly lua: string
  readonly keys: number
  /** Phantom: the argument and result types, for {@link run}. */
  readonly _types?: (args: Args) => Result
}

const script = <Args extends ReadonlyArray<string | number | Uint8Array>, Result>(
  name: string,
  lua: string,
  keys = 1,
): Script<Args, Result> => ({ name, lua, keys })

/** Reads the version from the header of the value at KEYS[1]; 0 when absent or headerless. */
const READ_VERSION = `
local head = redis.call('GETRANGE', KEYS[1], 0, 23)
local version = tonumber(string.match(head, '^[vtc](%d+):')) or 0
`

/** Compare-and-set fill. ARGV: payload, ttl ms, expected version. Returns 1 if written, 0 if not. */
export const fill = script<[payload: Uint8Array, ttlMillis: number, expectedVersion: number], number>(
  "strataFill",
  `${READ_VERSION}
if version ~= tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], 'v' .. (version + 1) .. ':' .. ARGV[1], 'PX', ARGV[2])
return 1`,
)

/**
 * Atomic counter: adds ARGV[1] to a live counter keeping its TTL, or starts a
 * new one at ARGV[1] with TTL ARGV[2] (replacing a value or tombstone).
 * Returns the new count. One script, so no counter is ever left without a TTL.
 */
export const increment = script<[by: number, ttlMillis: number], number>(
  "strataIncrement",
  `local current = redis.call('GET', KEYS[1])
local by = tonumber(ARGV[1])
local version = 0
if current then
  local kind, v, rest = string.match(current, '^([vtc])(%d+):(.*)$')
  version = tonumber(v) or 0
  local count = tonumber(rest)
  if kind == 'c' and count then
    count = count + by
    redis.call('SET', KEYS[1], 'c' .. (version + 1) .. ':' .. string.format('%d', count), 'KEEPTTL')
    return count
  end
end
redis.call('SET', KEYS[1], 'c' .. (version + 1) .. ':' .. string.format('%d', by), 'PX', ARGV[2])
return by`,
)

/**
 * Takes the lease KEYS[2] (token ARGV[1], ttl ARGV[2] ms) only if the data key
 * KEYS[1] still has version ARGV[3]. Returns 1 taken, 0 held by someone, -1
 * the data changed. Both keys must share a slot on a Cluster.
 */
export const acquireLeaseIfVersion = script<
  [token: string, ttlMillis: number, expectedVersion: number],
  number
>(
  "strataAcquireLease",
  `${READ_VERSION}
if version ~= tonumber(ARGV[3]) then return -1 end
if redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0`,
  2,
)

/** Releases a lease only if ARGV[1] is still its token. Returns 1 if released. */
export const releaseLease = script<[token: string], number>(
  "strataReleaseLease",
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
)

/** Every script, for registration on a client. */
export const all: ReadonlyArray<Script<any, any>> = [fill, increment, acquireLeaseIfVersion, releaseLease]
