/**
 * A black-box node: one Strata cache in its own process, built and used ONLY
 * through the public Promise facade (`createCache`, `cache.keyspace(...)`,
 * plain string keys, JSON-like values) over `RedisStore.layer` and
 * `RedisBus.layer`, as an application would. The tests in ../ drive it over
 * IPC (see ../nodes.ts).
 *
 * Every answer is plain data: a failure comes back as `{ ok: false, tag }`
 * (the error's `_tag`, or `untyped:<name>:<message>` when Strata let
 * something else escape), so tests assert on tags, never on message text.
 * Times are wall-clock milliseconds (`performance.timeOrigin + performance.now()`),
 * comparable across the processes of one machine.
 *
 * Environment:
 * - `BB_STORE_URL`: Redis for the store (may be a fault proxy); `none` for an L1-only cache.
 * - `BB_BUS_URL`: Redis for the bus (default: the store's); `none` for no bus.
 * - `BB_PREFIX`, `BB_CHANNEL`: the store prefix and bus channel the test's nodes share.
 * - `BB_CACHE_OPTIONS`: JSON merged into `createCache`'s options (lease, l1, ...).
 * - `BB_LISTENER=throw`: also registers an event listener that always throws.
 */
import { type CacheEvent, createCache, Keyspace, type StrataCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { WorkerProcess } from "@strata/testkit/servers"
import { Schema } from "effect"

const wall = () => performance.timeOrigin + performance.now()

// What escaped Strata into the process: each one would have crashed a real application.
const unhandled: Array<string> = []
process.on("uncaughtException", (error) => unhandled.push(`uncaughtException: ${describe(error)}`))
process.on("unhandledRejection", (error) => unhandled.push(`unhandledRejection: ${describe(error)}`))

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}

/** The tag of a failure as a user sees it: `_tag` for Strata's errors, `untyped:...` for anything else. */
const tagOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null && typeof (error as { _tag?: unknown })._tag === "string")
    return (error as { _tag: string })._tag
  return `untyped:${describe(error)}`
}

const Item = Schema.Struct({ value: Schema.String, by: Schema.Number })
type Item = typeof Item.Type

const keyspaces = {
  /** The everyday keyspace. */
  item: Keyspace.make({ name: "bb.item", key: Schema.String, value: Item, ttl: "10 minutes" }),
  /** Entries go stale after 300 ms and may be served stale for 10 minutes. */
  stale: Keyspace.make({
    name: "bb.stale",
    key: Schema.String,
    value: Item,
    ttl: "300 millis",
    staleFor: "10 minutes",
  }),
  /** Every entry carries the tag `all`. */
  tagged: Keyspace.make({
    name: "bb.tagged",
    key: Schema.String,
    value: Item,
    ttl: "10 minutes",
    tags: () => ["all"],
  }),
  /** The same name and version as `item` with an incompatible value schema, as an old deploy would have. */
  other: Keyspace.make({
    name: "bb.item",
    key: Schema.String,
    value: Schema.Struct({ value: Schema.Number }),
    ttl: "10 minutes",
  }),
}
const Count = Keyspace.counter({ name: "bb.count", key: Schema.String, ttl: "1 hour" })
type Space = keyof typeof keyspaces

const storeUrl = process.env.BB_STORE_URL ?? "none"
const busUrl = process.env.BB_BUS_URL ?? storeUrl
const cacheOptions = JSON.parse(process.env.BB_CACHE_OPTIONS ?? "{}") as Record<string, unknown>

const open = (): Promise<StrataCache> =>
  createCache({
    ...cacheOptions,
    ...(storeUrl === "none"
      ? {}
      : { l2: RedisStore.layer({ url: storeUrl, prefix: process.env.BB_PREFIX }) }),
    ...(busUrl === "none" ? {} : { bus: RedisBus.layer({ url: busUrl, channel: process.env.BB_CHANNEL }) }),
  })

const cache = await open()
const events: Array<CacheEvent & { at: number }> = []
cache.on((event) => {
  events.push({ ...event, at: wall() })
})
if (process.env.BB_LISTENER === "throw") {
  cache.on(() => {
    throw new Error("a user's listener threw")
  })
}

const counter = cache.keyspace(Count)
const clientOf = (ks: unknown) =>
  ks === "count"
    ? (counter as unknown as ReturnType<typeof cache.keyspace<string, Item>>)
    : cache.keyspace(keyspaces[(ks ?? "item") as Space] as typeof keyspaces.item)

/** A read as data: the value's `value`, `null` on a miss, `!<tag>` on a failure. */
const show = (found: { value: unknown } | undefined) =>
  found === undefined ? null : (found.value as string | number)

/** Amounts for `increment` that JSON over IPC cannot carry, by name. */
const hostileAmounts: Record<string, unknown> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  "-Infinity": Number.NEGATIVE_INFINITY,
  "-0": -0,
  "1.5": 1.5,
  "2^53": 2 ** 53,
  '"1"': "1",
  "{}": {},
  null: null,
}

let loaderCalls = 0
const loaderStarts: Array<{ key: string; at: number }> = []
const gates = new Map<string, () => void>()

const attempt = async <A>(f: () => Promise<A>) => {
  const startedAt = wall()
  try {
    const result = await f()
    return { ok: true as const, result, startedAt, doneAt: wall() }
  } catch (error) {
    return { ok: false as const, tag: tagOf(error), startedAt, doneAt: wall() }
  }
}

type Command = WorkerProcess.Command

const handle = async (command: Command): Promise<unknown> => {
  const key = command.key as string
  switch (command.op) {
    case "get":
      return attempt(async () => show(await clientOf(command.ks).get(key)))
    case "getMany":
      return attempt(async () =>
        (await clientOf(command.ks).getMany(command.keys as Array<string>)).map(show),
      )
    case "set":
      return attempt(() =>
        clientOf(command.ks).set(
          key,
          // `value` is a string, or a number for the `other` keyspace (its schema's type).
          { value: command.value as string, by: process.pid },
          command.options as { ttl?: number; staleFor?: number } | undefined,
        ),
      )
    case "delete":
      return attempt(() => clientOf(command.ks).delete(key))
    case "invalidateTag":
      return attempt(() => cache.invalidateTag(command.tag as string))
    case "clear":
      return attempt(() => clientOf(command.ks).clear())
    case "increment":
      // `byName` names a value IPC cannot carry (NaN, -0, Infinity, an object...).
      return attempt(() =>
        counter.increment(
          key,
          (typeof command.byName === "string" ? hostileAmounts[command.byName] : command.by) as number,
        ),
      )
    case "getCount":
      return attempt(async () => (await counter.get(key)) ?? null)
    case "getOrSet": {
      // The loader counts its calls; it sleeps `loaderMillis`, or, with `gate`, waits for `release` (or a kill).
      const loader = async (): Promise<Item> => {
        loaderCalls++
        loaderStarts.push({ key, at: wall() })
        if (command.gate === true) await new Promise<void>((resolve) => gates.set(key, resolve))
        else await new Promise((resolve) => setTimeout(resolve, (command.loaderMillis as number) ?? 0))
        return { value: command.value as string, by: process.pid }
      }
      return attempt(async () => {
        const found = await clientOf(command.ks).getOrSet(key, loader, command.options as never)
        return { value: found.value, by: found.by }
      })
    }
    case "release":
      gates.get(key)?.()
      gates.delete(key)
      return true
    case "readLoop": {
      // Reads every `every` ms for `millis` ms; each read with the time it started.
      const reads: Array<[number, string | number | null]> = []
      const until = wall() + (command.millis as number)
      while (wall() < until) {
        const at = wall()
        const read = await attempt(async () => show(await clientOf(command.ks).get(key)))
        reads.push([at, read.ok ? read.result : `!${read.tag}`])
        await new Promise((resolve) => setTimeout(resolve, command.every as number))
      }
      return reads
    }
    case "status":
      return {
        pid: process.pid,
        loaderCalls,
        loaderStarts,
        unhandled,
        events: events.map((e) => ({ tag: e._tag, at: e.at })),
        stats: cache.stats(),
      }
    case "close":
      return attempt(() => cache.close())
    case "exit":
      // A close that waits for a gated loader (or hangs) must not keep a test waiting.
      await Promise.race([
        cache.close().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 1_000)),
      ])
      setImmediate(() => process.exit(0))
      return "bye"
    default:
      throw new Error(`unknown command ${command.op}`)
  }
}

WorkerProcess.serve(handle)
