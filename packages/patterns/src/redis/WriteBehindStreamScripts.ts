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
 * What the group has acknowledged, as a Lua function for the scripts below:
 * `{ lastDelivered, oldestPending }` of group `group` (`oldestPending` is
 * `''` when nothing is pending). Entries are delivered in id order, so an
 * entry at or below `lastDelivered` and not pending was acknowledged (see
 * `OwnWrites.ts`).
 */
const GROUP_STATE = `
local function groupState(stream, group)
  local summary = redis.call('XPENDING', stream, group)
  local oldest = ''
  if tonumber(summary[1]) > 0 then oldest = summary[2] end
  local last = '0-0'
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local name, delivered
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then delivered = g[i + 1] end
    end
    if name == group then last = delivered end
  end
  return { last, oldest }
end
`

/**
 * Appends one entry unless the stream already holds `ARGV[1]` entries (then
 * returns nil: the log is full). ARGV: limit, storage key, packed entry,
 * group, and '1' to have the group's state returned too. Returns
 * `{ entryId }` or `{ entryId, lastDelivered, oldestPending }`.
 */
const ADD = `${GROUP_STATE}
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[2], 'e', ARGV[3])
if ARGV[5] ~= '1' then return { id } end
local state = groupState(KEYS[1], ARGV[4])
return { id, state[1], state[2] }
`

/**
 * Whether entry ARGV[2] is in the pending list of group ARGV[1] (delivered
 * to a consumer, not acknowledged), with the group's state. Returns
 * `{ held (0 or 1), lastDelivered, oldestPending }`.
 */
const PENDING = `${GROUP_STATE}
local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
local state = groupState(KEYS[1], ARGV[1])
return { #held > 0 and 1 or 0, state[1], state[2] }
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
 * `{ nextCursor, claimed, fresh }`, each entry `{ id, { field, value, ... } }`
 * (fields are nil for an entry deleted from the stream).
 */
const TAKE = `
if ARGV[6] == '1' then
  local own = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '0')
  return { ARGV[5], {}, own and own[1][2] or {} }
end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], ARGV[5], 'COUNT', ARGV[3])
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
return { claimed[1], claimed[2], fresh and fresh[1][2] or {} }
`

/**
 * Acknowledges the ids ARGV[2..] for group ARGV[1], then trims the stream
 * below the oldest entry the group still needs: the oldest pending entry,
 * or, with nothing pending, the group's last delivered entry (everything
 * older was acknowledged). Entries never delivered are newer than that, so
 * trimming never drops an unflushed entry. `XTRIM MINID` (exact) keeps
 * `XLEN` equal to what is still in play, which is what the log's length
 * limit counts. Returns how many ids were acknowledged.
 */
const ACK_AND_TRIM = `
local acked = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local threshold = nil
if tonumber(pending[1]) > 0 then
  threshold = pending[2]
else
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local name, last
    for i = 1, #group, 2 do
      if group[i] == 'name' then name = group[i + 1] elseif group[i] == 'last-delivered-id' then last = group[i + 1] end
    end
    if name == ARGV[1] then threshold = last end
  end
end
if threshold then redis.call('XTRIM', KEYS[1], 'MINID', threshold) end
return acked
`

/**
 * Creates the consumer group ARGV[1] at the start of the stream (`0`: entries
 * written before any flusher started belong to it too), creating the stream
 * if needed; an existing group is kept as it is.
 */
const ENSURE_GROUP = `
local ok, err = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if not ok and not string.find(tostring(err.err or err), 'BUSYGROUP') then return redis.error_reply(tostring(err.err or err)) end
return 1
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
  ): Promise<[entryId: string, lastDelivered?: string, oldestPending?: string] | null>
  strataWbPending(
    stream: string,
    group: string,
    entryId: string,
  ): Promise<[held: 0 | 1, lastDelivered: string, oldestPending: string]>
  strataWbTakeBuffer(
    stream: string,
    group: string,
    consumer: string,
    count: number,
    minIdleMillis: number,
    cursor: string,
    own: "0" | "1",
  ): Promise<[cursor: Buffer, claimed: Array<RawEntry>, fresh: Array<RawEntry>]>
  strataWbAckAndTrim(stream: string, group: string, ...ids: Array<string>): Promise<number>
  strataWbEnsureGroup(stream: string, group: string): Promise<number>
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
