/**
 * Issue 9, items 12 and 13 on the Redis tier: a hostile `increment` amount
 * is `InvalidArgument` before any I/O (another process still reads the
 * counter it had), every numeric option of `RedisStore.layer` and
 * `RedisBus.layer` is validated before connecting (`InvalidArgument`, never a
 * silent default and never a connection failure), and a per-call `ttl` +
 * `staleFor` over 2^31 - 1 ms writes nothing.
 */
import { createCache } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit"
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { describeFailure, type Tag, within } from "./contract.ts"
import { isolation, type Node, nodePool, startNode } from "./nodes.ts"

const pool = nodePool()
const { prefix, channel } = isolation()
let a: Node
beforeAll(async () => {
  ;[a] = (await pool.start(1, { store: inject("redisUrl"), prefix, channel })) as [Node]
}, 90_000)
afterAll(() => pool.stopAll())

describe("hostile numbers on the Redis tier (black box)", () => {
  it("increment by NaN, ±Infinity, 1.5, 2^53, '1', {} or null rejects with InvalidArgument, and a fresh process reads the counter unchanged", async () => {
    const key = "page:/pricing"
    expect((await a.increment(key, 5)).ok).toBe(true)
    const wrong: Array<string> = []
    for (const name of ["NaN", "Infinity", "-Infinity", "1.5", "2^53", '"1"', "{}", "null"]) {
      const r = await a.incrementBy(key, name)
      if (r.ok) wrong.push(`increment by ${name}: resolved ${JSON.stringify(r.result)}`)
      else if (r.tag !== "InvalidArgument") wrong.push(`increment by ${name}: ${r.tag}`)
    }
    const zero = await a.incrementBy(key, "-0")
    if (zero.ok ? zero.result !== 5 : zero.tag !== "InvalidArgument")
      wrong.push(`increment by -0: ${zero.ok ? `resolved ${JSON.stringify(zero.result)}` : zero.tag}`)
    const fresh = await pool.start(1, { store: inject("redisUrl"), prefix, channel })
    const read = await fresh[0]!.getCount(key)
    expect(read.ok ? read.result : `!${read.tag}`, "a fresh process reads the counter").toBe(5)
    expect(wrong).toEqual([])
    const next = await fresh[0]!.increment(key, 1)
    expect(next.ok && next.result, "the counter still counts").toBe(6)
  }, 60_000)

  it("a per-call ttl + staleFor over 2^31 - 1 ms rejects with InvalidDuration and writes nothing to Redis", async () => {
    const key = "user:13"
    const r = await a.set(key, "forever", "item", { ttl: 2 ** 31 - 2, staleFor: 2 })
    expect(r.ok ? "resolved" : r.tag).toBe("InvalidDuration")
    const fresh = await startNode({ store: inject("redisUrl"), prefix, channel })
    try {
      const read = await fresh.get(key)
      expect(read.ok ? read.result : `!${read.tag}`, "a fresh process reads nothing").toBe(null)
    } finally {
      await fresh.exit()
    }
  }, 60_000)
})

/** Values every numeric option must refuse (or, for `either`, may take). */
const hostile: ReadonlyArray<[string, unknown, "invalid" | "either"]> = [
  ["NaN", Number.NaN, "invalid"],
  ["Infinity", Number.POSITIVE_INFINITY, "invalid"],
  ["-Infinity", Number.NEGATIVE_INFINITY, "invalid"],
  ["-1", -1, "invalid"],
  ["2^31", 2 ** 31, "invalid"],
  ["2^53", 2 ** 53, "invalid"],
  ['"100"', "100", "invalid"],
  ["{}", {}, "invalid"],
  ["null", null, "invalid"],
  ["true", true, "invalid"],
  ["100n", 100n, "invalid"],
  ["Symbol", Symbol("n"), "invalid"],
  ["1.5", 1.5, "either"],
  ["0", 0, "either"],
]

describe("hostile numbers in RedisStore.layer and RedisBus.layer options (black box)", () => {
  let unreachable: string
  beforeAll(async () => {
    // Nothing listens here: an option checked before any I/O fails with InvalidArgument, not a connection error.
    unreachable = `redis://127.0.0.1:${await RedisHarness.freePort()}`
  })

  const storeOptions = [
    "commandTimeoutMillis",
    "connectTimeoutMillis",
    "socketTimeoutMillis",
    "tombstoneMillis",
    "generationRefreshMillis",
  ]
  const busOptions = [
    "heartbeatMillis",
    "heartbeatTimeoutMillis",
    "retryQueueLimit",
    "retryIntervalMillis",
    "commandTimeoutMillis",
    "connectTimeoutMillis",
  ]
  for (const [layer, names] of [
    ["RedisStore.layer", storeOptions],
    ["RedisBus.layer", busOptions],
  ] as const) {
    for (const option of names) {
      it(`${layer}({ ${option} }) with a hostile value fails createCache with InvalidArgument before connecting; a sane value works`, async () => {
        const open = (url: string, value: unknown) =>
          createCache(
            layer === "RedisStore.layer"
              ? { l2: RedisStore.layer({ url, prefix, [option]: value } as never) }
              : { bus: RedisBus.layer({ url, channel, [option]: value } as never) },
          )
        const wrong: Array<string> = []
        await Promise.all(
          hostile.map(async ([name, value, verdict]) => {
            const outcome = await within(open(unreachable, value), 10_000)
            if (outcome === "pending") wrong.push(`${name}: createCache still pending after 10 s`)
            else if (outcome.ok) {
              await outcome.value.close()
              wrong.push(`${name}: createCache resolved against an unreachable server`)
            } else {
              const tag = describeFailure(outcome.error)
              const accepted: ReadonlyArray<Tag> =
                verdict === "invalid"
                  ? ["InvalidArgument", "InvalidDuration"]
                  : ["InvalidArgument", "InvalidDuration", "StoreUnavailable", "BusUnavailable"]
              if (!(accepted as ReadonlyArray<string>).includes(tag)) wrong.push(`${name}: ${tag}`)
            }
          }),
        )
        expect(wrong, `${layer} ${option}: hostile values not refused before any I/O`).toEqual([])
        const sane = await within(open(inject("redisUrl"), 1_000), 10_000)
        expect(sane !== "pending" && sane.ok, `${option}: 1000 works`).toBe(true)
        if (sane !== "pending" && sane.ok) await sane.value.close()
      }, 30_000)
    }
  }
})
