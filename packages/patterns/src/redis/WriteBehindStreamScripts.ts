/**
 * The Lua scripts of the durable write-behind log, registered on the
 * connection with ioredis `defineCommand` (run by SHA, reloaded on
 * `NOSCRIPT`). Stream replies are read inside Lua so that the client gets
 * the same plain arrays under RESP2 and RESP3, and as Buffers (binary-safe
 * values). Each script touches one key, the stream (the consumer group lives
 * inside it and is not a key), so it runs on a Redis Cluster with no hash
 * tag: one stream = one slot, checked on a 3-master Cluster by
 * `test/redis/WriteBehindStream.cluster.test.ts`.
 *
 * Commands and their semantics: https://redis.io/docs/latest/commands/xadd/,
 * /xreadgroup/, /xautoclaim/, /xack/, /xpending/, /xtrim/.
 *
 * @since 0.1.0
 */
import type { RedisConnection } from "@strata/redis"

/**
 * The consumer group, as Lua functions for the scripts below.
 *
 * `ensureGroup(stream, group)` returns `created, lastDelivered`: whether it
 * had to create the group (at the stream's start, `0`, creating the stream
 * too if needed), and the group's last delivered id. Every script calls it
 * before it uses the group, so a group lost with its stream (Redis
 * restarted without persistence, FLUSHALL, DEL) or destroyed is recreated
 * by the next script that uses it, and no script fails half-way with
 * NOGROUP after a write. It reads the group list (no error reply when the group
 * exists: an error per call would flood Redis's error statistics).
 *
 * `groupState(stream, group, lastDelivered)` returns `{ lastDelivered,
 * oldestPending, firstEntry }` (`oldestPending` and `firstEntry` are `''`
 * when nothing is pending, or the stream is empty). Entries are delivered
 * in id order and never trimmed while needed, so an entry at or below
 * `lastDelivered` and not pending was acknowledged, and one below
 * `firstEntry` is not in the stream at all (acknowledged and trimmed, or
 * lost with the stream): see `OwnWrites.ts`.
 */
const GROUP = `
local function ensureGroup(stream, group)
  if redis.call('EXISTS', stream) == 1 then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      local name, delivered
      for i = 1, #g, 2 do
        if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then delivered = g[i + 1] end
      end
      if name == group then return 0, delivered end
    end
  end
  redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
  return 1, '0-0'
end
local function groupState(stream, group, last)
  local summary = redis.call('XPENDING', stream, group)
  local oldest = ''
  if tonumber(summary[1]) > 0 then oldest = summary[2] end
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  return { last, oldest, first[1] and first[1][1] or '' }
end
`

/**
 * Appends one entry unless the stream already holds `ARGV[1]` entries.
 * ARGV: limit, storage key, packed entry, group, and '1' to have the
 * group's state returned too (it is also returned when the group had to be
 * recreated). Returns `{ entryId, created, lastDelivered?, oldestPending?,
 * firstEntry? }`, `entryId` `''` when the log is full (nothing written).
 *
 * The group is checked (and recreated if missing) when the stream is empty
 * or missing — a lost stream reads as empty; a stream that was ever
 * flushed keeps its last delivered entry, so an empty one is rare and
 * cheap to check — and whenever the state is read. The hot path adds no
 * command: a group destroyed under a stream that still has entries is not
 * in the way of an append, and the flusher's next read recreates it. The
 * `XADD` is the script's last command: a script that fails has not
 * appended, so a rejected `set` wrote nothing.
 */
const ADD = `${GROUP}
local length = redis.call('XLEN', KEYS[1])
local created, last = 0, nil
if length == 0 or ARGV[5] == '1' then created, last = ensureGroup(KEYS[1], ARGV[4]) end
if length >= tonumber(ARGV[1]) then return { '', created } end
local state = {}
if last then state = groupState(KEYS[1], ARGV[4], last) end
local id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[2], 'e', ARGV[3])
return { id, created, state[1], state[2], state[3] }
`

/**
 * Whether entry ARGV[2] is in the pending list of group ARGV[1] (delivered
 * to a consumer, not acknowledged), with the group's state. Returns
 * `{ held (0 or 1), created, lastDelivered, oldestPending, firstEntry }`.
 */
const PENDING = `${GROUP}
local created, last = ensureGroup(KEYS[1], ARGV[1])
local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
local state = groupState(KEYS[1], ARGV[1], last)
return { #held > 0 and 1 or 0, created, state[1], state[2], state[3] }
`

/**
 * Takes the next batch for consumer ARGV[2] of group ARGV[1]: first entries
 * other consumers left unacknowledged for ARGV[4] ms or more (XAUTOCLAIM,
 * from cursor ARGV[5]: a crashed process's entries), then entries never
 * delivered (XREADGROUP '>'), ARGV[3] of each at most. When it claimed
 * something (a consumer died), consumers left with nothing pending and idle
 * as long are removed from the group (XGROUP DELCONSUMER: nothing is lost, a
 * live one is re-created by its next read), so dead processes' names do not
 * pile up. With ARGV[6] = '1' it
 * re-reads this consumer's own pending entries instead (XREADGROUP '0'),
 * after a restart under the same consumer name. Returns
 * `{ nextCursor, claimed, fresh, created }`, each entry `{ id, { field,
 * value, ... } }` (fields are nil for an entry deleted from the stream); a
 * recreated group starts its claims from the start again.
 */
const TAKE = `${GROUP}
local created = ensureGroup(KEYS[1], ARGV[1])
local cursor = ARGV[5]
if created == 1 then cursor = '0-0' end
if ARGV[6] == '1' then
  local own = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '0')
  return { cursor, {}, own and own[1][2] or {}, created }
end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], cursor, 'COUNT', ARGV[3])
if #claimed[2] > 0 then
  for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
    local name, pending, idle
    for i = 1, #consumer, 2 do
      if consumer[i] == 'name' then name = consumer[i + 1]
      elseif consumer[i] == 'pending' then pending = consumer[i + 1]
      elseif consumer[i] == 'idle' then idle = consumer[i + 1] end
    end
    if name ~= ARGV[2] and pending == 0 and idle >= tonumber(ARGV[4]) then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    end
  end
end
local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
return { claimed[1], claimed[2], fresh and fresh[1][2] or {}, created }
`

/**
 * Acknowledges the ids ARGV[2..] for group ARGV[1], then trims the stream
 * below the oldest entry the group still needs: the oldest pending entry,
 * or, with nothing pending, the group's last delivered entry (everything
 * older was acknowledged). Entries never delivered are newer than that, so
 * trimming never drops an unflushed entry. `XTRIM MINID` (exact) keeps
 * `XLEN` equal to what is still in play, which is what the log's length
 * limit counts. Returns `{ acknowledged, created }`: a group recreated here
 * acknowledges nothing and trims nothing (its last delivered id is `0-0`),
 * and delivers the entries still in the stream again.
 */
const ACK_AND_TRIM = `${GROUP}
local created, last = ensureGroup(KEYS[1], ARGV[1])
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local threshold = last
if tonumber(pending[1]) > 0 then threshold = pending[2] end
redis.call('XTRIM', KEYS[1], 'MINID', threshold)
return { acked, created }
`

/**
 * Creates the consumer group ARGV[1] at the start of the stream (`0`: entries
 * written before any flusher started belong to it too), creating the stream
 * if needed; an existing group is kept as it is. Returns 1 when it created it.
 */
const ENSURE_GROUP = `${GROUP}
local created = ensureGroup(KEYS[1], ARGV[1])
return created
`

/** A stream entry as the scripts return it: its id and its flat field list (or null when deleted). */
export type RawEntry = [id: Buffer, fields: Array<Buffer> | null]

/** The scripts as methods of the client, once {@link define} ran. */
export interface StreamCommands {
  strataWbAdd(
    stream: string,
    limit: number,
    id: string,
    entry: Uint8Array,
    group: string,
    withState: "0" | "1",
  ): Promise<
    [entryId: string, created: 0 | 1, lastDelivered?: string, oldestPending?: string, firstEntry?: string]
  >
  strataWbPending(
    stream: string,
    group: string,
    entryId: string,
  ): Promise<[held: 0 | 1, created: 0 | 1, lastDelivered: string, oldestPending: string, firstEntry: string]>
  strataWbTakeBuffer(
    stream: string,
    group: string,
    consumer: string,
    count: number,
    minIdleMillis: number,
    cursor: string,
    own: "0" | "1",
  ): Promise<[cursor: Buffer, claimed: Array<RawEntry>, fresh: Array<RawEntry>, created: 0 | 1]>
  strataWbAckAndTrim(
    stream: string,
    group: string,
    ...ids: Array<string>
  ): Promise<[acknowledged: number, created: 0 | 1]>
  strataWbEnsureGroup(stream: string, group: string): Promise<0 | 1>
}

/** Registers the scripts on `client` (idempotent) and returns it typed with them. */
export const define = (client: RedisConnection.RedisClient): StreamCommands => {
  if (!("strataWbAdd" in client)) {
    client.defineCommand("strataWbAdd", { numberOfKeys: 1, lua: ADD })
    client.defineCommand("strataWbPending", { numberOfKeys: 1, lua: PENDING })
    client.defineCommand("strataWbTake", { numberOfKeys: 1, lua: TAKE })
    client.defineCommand("strataWbAckAndTrim", { numberOfKeys: 1, lua: ACK_AND_TRIM })
    client.defineCommand("strataWbEnsureGroup", { numberOfKeys: 1, lua: ENSURE_GROUP })
  }
  return client as unknown as StreamCommands
}
