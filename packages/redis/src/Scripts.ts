/**
 * The Lua scripts of the Redis store, declared once with their keys,
 * arguments and result. ioredis loads each one on first use and runs it by
 * SHA (`EVALSHA`), falling back to `EVAL` after a `NOSCRIPT` (a restarted or
 * flushed server), so callers never see a missing script.
 *
 * Every stored value starts with a header `<kind><version>:` where kind is
 * `v` (value), `t` (tombstone) or `c` (counter) and the version is a decimal
 * token that changes on every write. Two rules keep the scripts exact:
 *
 * - **No number crosses the Lua boundary as a Lua number where it is written
 *   back.** Redis's Lua turns numbers into text with `%.14g`, so a version
 *   above 1e14 concatenated into a header came out as `4.3587308052719e+15`
 *   and the entry was unreadable. Versions are made by the client and handled
 *   as strings in Lua (compared as strings, never added to); counts are
 *   formatted with `string.format('%d', n)`, exact up to 2^53, and kept within
 *   ±(2^53 − 1).
 * - **Every write carries a deadline** in the server's time (ms, from
 *   `TIME`): the moment its caller gives up waiting. A write delivered later
 *   (a stalled link that heals, a paused server that resumes) is refused
 *   (`LATE`), so a write whose caller saw a timeout can never land after a
 *   write acknowledged later (see ADR 0008).
 *
 * Scripts read only the header (`GETRANGE 0 23`) where they can, so a 1 MiB
 * value is never copied into Lua. Every script touches one key, except the
 * conditional lease, which the store uses on a Cluster only when its two keys
 * share a slot.
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

/** What a write script returns when its deadline passed before Redis ran it: nothing was written. */
export const LATE = -2

/**
 * Returns LATE when the server's clock (ms) has reached the deadline in
 * ARGV[n]. Both sides are integers below 2^53, compared as numbers (exact).
 */
const refuseLate = (n: number) => `
local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) >= tonumber(ARGV[${n}]) then return ${LATE} end
`

/**
 * Marks the lease KEYS[n] as waited for (a `+` appended to its token, TTL
 * kept), so its holder announces its fill only when someone waits.
 */
const markWaited = (n: number) => `
local held = redis.call('GET', KEYS[${n}])
if held and string.sub(held, -1) ~= '+' then redis.call('APPEND', KEYS[${n}], '+') end
`

/** Reads the version (a string of digits) from the header of KEYS[1]; '0' when absent or headerless. */
const READ_VERSION = `
local version = string.match(redis.call('GETRANGE', KEYS[1], 0, 23), '^[vtc](%d+):') or '0'
`

/**
 * A write of bytes whose header the client made (a value or a tombstone).
 * ARGV: stamped bytes, ttl ms, deadline. Returns 1, or LATE.
 */
export const write = script<[stamped: Uint8Array, ttlMillis: number, deadline: number], number>(
  "strataWrite",
  `${refuseLate(3)}
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
)

/**
 * Compare-and-set fill. ARGV: stamped bytes (with the new version), ttl ms,
 * expected version (decimal string, '0' for absent), deadline. Returns 1 if
 * written, 0 if the key's version is no longer the expected one, or LATE.
 */
export const fill = script<
  [stamped: Uint8Array, ttlMillis: number, expectedVersion: string, deadline: number],
  number
>(
  "strataFill",
  `${refuseLate(4)}${READ_VERSION}
if version ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
)

/**
 * Atomic counter: adds ARGV[1] to a live counter keeping its TTL, or starts a
 * new one at ARGV[1] with TTL ARGV[2] (replacing a value or tombstone). A
 * value whose payload is decimal text (a counter written by `set`) counts as
 * a counter: no msgpack envelope is decimal text. The
 * new version is ARGV[3]; the deadline ARGV[4]. Returns the new count as
 * decimal text (ioredis parses integer replies above 2^52 inexactly), an
 * error reply `STRATA_LATE` past the deadline, or `STRATA_RANGE` when the
 * count would leave ±(2^53 − 1). One script, so no counter is ever left
 * without a TTL.
 */
export const increment = script<[by: string, ttlMillis: number, version: string, deadline: number], string>(
  "strataIncrement",
  `local clock = redis.call('TIME')
if tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000) >= tonumber(ARGV[4]) then
  return redis.error_reply('STRATA_LATE the deadline passed before the increment ran')
end
local by = tonumber(ARGV[1])
local current = redis.call('GET', KEYS[1])
local count = nil
if current then count = tonumber(string.match(current, '^[cv]%d+:(%-?%d+)$')) end
if count then
  count = count + by
  if count > 9007199254740991 or count < -9007199254740991 then
    return redis.error_reply('STRATA_RANGE the counter would leave the safe integer range')
  end
  local text = string.format('%d', count)
  redis.call('SET', KEYS[1], 'c' .. ARGV[3] .. ':' .. text, 'KEEPTTL')
  return text
end
redis.call('SET', KEYS[1], 'c' .. ARGV[3] .. ':' .. ARGV[1], 'PX', ARGV[2])
return ARGV[1]`,
)

/**
 * Takes the lease KEYS[2] (token ARGV[1], ttl ARGV[2] ms) only if the data key
 * KEYS[1] still has version ARGV[3] (a decimal string). ARGV[4] is the
 * deadline. Returns 1 taken, 0 held by someone, -1 the data changed, or LATE.
 * Both keys must share a slot on a Cluster.
 */
export const acquireLeaseIfVersion = script<
  [token: string, ttlMillis: number, expectedVersion: string, deadline: number],
  number
>(
  "strataAcquireLease",
  `${refuseLate(4)}${READ_VERSION}
if version ~= ARGV[3] then return -1 end
if redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
${markWaited(2)}
return 0`,
  2,
)

/** Takes the lease KEYS[1] (token ARGV[1], ttl ARGV[2] ms) if free; ARGV[3] the deadline. Returns 1, 0 or LATE. */
export const acquireLease = script<[token: string, ttlMillis: number, deadline: number], number>(
  "strataAcquireLeaseAny",
  `${refuseLate(3)}
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
${markWaited(1)}
return 0`,
)

/**
 * A read that takes the lease when the key holds no value: KEYS[1] data,
 * KEYS[2] lease (same slot on a Cluster); ARGV token, ttl ms, deadline.
 * Returns `{ bytes }` when the data key holds a value or a counter, else
 * `{ false, version, taken }` (version as text, taken 1 or 0), or LATE.
 */
export const readOrLease = script<[token: string, ttlMillis: number, deadline: number], unknown>(
  "strataReadOrLease",
  `${refuseLate(3)}
local current = redis.call('GET', KEYS[1])
local kind = current and string.sub(current, 1, 1)
if kind == 'v' or kind == 'c' then return { current } end
local version = '0'
if current then version = string.match(current, '^t(%d+):') or '0' end
if redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2], 'NX') then return { false, version, 1 } end
${markWaited(2)}
return { false, version, 0 }`,
  2,
)

/** Releases a lease only if ARGV[1] is still its token (a `+` after it marks waiters). Returns 1 if released. */
export const releaseLease = script<[token: string], number>(
  "strataReleaseLease",
  `local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
)

/**
 * Extends a lease (KEYS[1]) to ARGV[2] ms from now only if ARGV[1] is still
 * its token (a `+` after it marks waiters, and stays). Returns 1 if renewed.
 */
export const renewLease = script<[token: string, ttlMillis: number], number>(
  "strataRenewLease",
  `local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, #ARGV[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
)

/**
 * The holder's last step in one call: the compare-and-set fill of KEYS[1]
 * (ARGV stamped bytes, ttl ms, expected version as text) and the release of
 * its lease KEYS[2] (ARGV[4] its token); ARGV[5] the deadline. Returns
 * `{ written, waited }` (1 or 0 each; waited: someone found the lease held),
 * or LATE. Both keys must share a slot on a Cluster.
 */
export const fillAndRelease = script<
  [stamped: Uint8Array, ttlMillis: number, expectedVersion: string, token: string, deadline: number],
  unknown
>(
  "strataFillAndRelease",
  `${refuseLate(5)}${READ_VERSION}
local written = 0
if version == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  written = 1
end
local waited = 0
local held = redis.call('GET', KEYS[2])
if held and string.sub(held, 1, #ARGV[4]) == ARGV[4] then
  if #held > #ARGV[4] then waited = 1 end
  redis.call('DEL', KEYS[2])
end
return { written, waited }`,
  2,
)

/**
 * Moves a keyspace to its next generation (KEYS[1] is its generation key), so
 * its old keys become unreachable. ARGV[1] is the deadline; ARGV[2] the
 * highest generation the caller knows: the new one is past it even when the
 * generation key was lost (FLUSHDB, eviction), or the caller would keep
 * reading what it cleared. Returns the new generation, or LATE.
 */
export const clear = script<[deadline: number, known: number], number>(
  "strataClear",
  `${refuseLate(1)}
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local known = tonumber(ARGV[2])
if known > current then current = known end
current = current + 1
redis.call('SET', KEYS[1], string.format('%d', current))
return current`,
)

/**
 * Reads a keyspace's generation (KEYS[1]), putting back ARGV[1], the highest
 * one the caller knows, when the key holds less or is gone (FLUSHDB, an
 * eviction, a restart that kept some keys): otherwise processes that never
 * saw the old generation would write and read under another one than the
 * rest, for good. Generations only grow. Returns the generation now in force.
 */
export const restoreGeneration = script<[known: number], number>(
  "strataRestoreGeneration",
  `local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local known = tonumber(ARGV[1])
if known > current then
  redis.call('SET', KEYS[1], string.format('%d', known))
  return known
end
return current`,
)

/** Every script, for registration on a client. */
export const all: ReadonlyArray<Script<any, any>> = [
  write,
  fill,
  increment,
  acquireLeaseIfVersion,
  acquireLease,
  readOrLease,
  releaseLease,
  renewLease,
  fillAndRelease,
  clear,
  restoreGeneration,
]
