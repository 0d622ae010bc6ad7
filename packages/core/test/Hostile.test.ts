/**
 * Issue 9, items 11 and 13, through the public Promise facade only: every
 * failure a caller can see from a public function is one of Strata's tagged
 * errors (never a TypeError from inside Strata, never an untyped string),
 * whatever the caller passes: keys and values whose getters throw, Proxies,
 * revoked Proxies, wrong types, bad options. One test per public function.
 * And a per-call `ttl` + `staleFor` over 2^31 - 1 ms is `InvalidDuration`,
 * the rule `Keyspace.make` applies to a keyspace's own pair.
 */
import { createCache, type StrataCache } from "@strata/core"
import { describe, expect, it } from "vitest"
import {
  checks,
  Likes,
  LongLived,
  MAX_MS,
  outcome,
  Profiles,
  revokedProxy,
  show,
  throwingGetter,
  throwingProxy,
  tiers,
  Users,
  withCache,
} from "./hostile.ts"

/** Keys of `Users` (a string key) that are not strings, or blow up when looked at. */
const hostileStringKeys = (): Record<string, unknown> => ({
  "a Proxy whose traps throw": throwingProxy(),
  "a revoked Proxy": revokedProxy(),
  "an object whose toString throws": {
    toString() {
      throw new Error("toString threw")
    },
  },
  "a symbol": Symbol("user:42"),
  "a number": 42,
  null: null,
  undefined: undefined,
  "an array": ["user:42"],
})

/** Keys of `Profiles` (`{ userId: Int }`) that do not match, or blow up when looked at. */
const hostileStructKeys = (): Record<string, unknown> => ({
  "a key whose getter throws": throwingGetter("userId"),
  "a Proxy whose traps throw": throwingProxy(),
  "a revoked Proxy": revokedProxy(),
  "a string": "user:42",
  "NaN userId": { userId: Number.NaN },
  "fractional userId": { userId: 1.5 },
  null: null,
})

/** Values of `Users` that do not match, or blow up when looked at. */
const hostileValues = (): Record<string, unknown> => ({
  "a value whose getter throws": throwingGetter("name", { plan: "pro" }),
  "a Proxy whose traps throw": throwingProxy(),
  "a revoked Proxy": revokedProxy(),
  "a value whose name is an object with a cycle": (() => {
    const name: Record<string, unknown> = {}
    name.self = name
    return { name, plan: "pro" }
  })(),
  "a number": 42,
  null: null,
})

const good = { name: "Ada", plan: "pro" }

for (const [tier, open] of Object.entries(tiers)) {
  describe(`typed failures for hostile input, one test per public function (${tier})`, () => {
    it("createCache: bad options fail with InvalidArgument or InvalidDuration, never a TypeError or a silent default", async () => {
      const l2 = tier === "L1 only" ? {} : { l2: (await import("@strata/core")).MemoryStore.layer() }
      const cases: Record<string, unknown> = {
        "l1.maxEntries -1": { l1: { maxEntries: -1 } },
        "l1.maxBytes 0.5": { l1: { maxBytes: 0.5 } },
        "maxEntryBytes NaN": { maxEntryBytes: Number.NaN },
        'lease.ttl "banana"': { lease: { ttl: "banana" } },
        "lease 5": { lease: 5 },
        'l1 "yes"': { l1: "yes" },
        "loader.softTimeout -5": { loader: { softTimeout: -5 } },
        "circuitBreaker.failures 0": { circuitBreaker: { failures: 0 } },
        'spans "sometimes"': { spans: "sometimes" },
        "metricsIntervalMillis -1": { metricsIntervalMillis: -1 },
        "name 42": { name: 42 },
        "l1 is a Proxy whose traps throw": { l1: throwingProxy() },
        "the options are a Proxy whose traps throw": throwingProxy(),
      }
      const wrong: Array<string> = []
      for (const [name, options] of Object.entries(cases)) {
        const merged =
          typeof options === "object" &&
          options !== null &&
          !(name.includes("Proxy") && name.startsWith("the"))
            ? { ...(options as object), ...l2 }
            : options
        const o = await outcome(() => createCache(merged as never))
        if (o.kind === "resolved") {
          await o.value.close()
          wrong.push(`${name}: createCache resolved`)
        } else if (o.kind === "threw") wrong.push(`${name}: threw synchronously (${show(o)})`)
        else {
          const tag = show(o).replace("rejected ", "")
          if (tag !== "InvalidArgument" && tag !== "InvalidDuration") wrong.push(`${name}: ${show(o)}`)
        }
      }
      expect(wrong, "createCache with bad options").toEqual([])
    })

    it("cache.keyspace: something that is not a keyspace throws InvalidArgument", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        for (const [name, ks] of Object.entries({
          null: null,
          "an empty object": {},
          "a string": "hostile.user",
          "a Proxy whose traps throw": throwingProxy(),
        }))
          await check.throws(() => cache.keyspace(ks as never), ["InvalidArgument"], `keyspace(${name})`)
        check.done()
      })
    })

    it("get: hostile keys reject with InvalidKey", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        const profiles = cache.keyspace(Profiles)
        for (const [name, key] of Object.entries(hostileStringKeys()))
          await check.rejects(() => users.get(key as string), ["InvalidKey"], `get(${name})`)
        for (const [name, key] of Object.entries(hostileStructKeys()))
          await check.rejects(() => profiles.get(key as never), ["InvalidKey"], `get(${name})`)
        check.done()
      })
    })

    it("getOrSet: hostile keys reject with InvalidKey, hostile loader values with InvalidValue, a non-function loader or bad options with InvalidArgument/InvalidDuration", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        for (const [name, key] of Object.entries(hostileStringKeys()))
          await check.rejects(() => users.getOrSet(key as string, () => good), ["InvalidKey"], `key ${name}`)
        for (const [name, value] of Object.entries(hostileValues()))
          await check.rejects(
            () => users.getOrSet(`user:${name}`, () => value as never),
            // A Proxy's `then` trap throws when the loader's promise resolves with it: that is the loader failing.
            name.includes("Proxy") ? ["InvalidValue", "LoaderFailed"] : ["InvalidValue"],
            `loader returning ${name}`,
          )
        for (const [name, loader] of Object.entries({ null: null, "a number": 42, "an object": {} }))
          await check.rejects(
            () => users.getOrSet("user:loader", loader as never),
            ["InvalidArgument"],
            `loader ${name}`,
          )
        await check.rejects(
          () => users.getOrSet("user:options", () => good, throwingProxy() as never),
          ["InvalidArgument"],
          "options that are a Proxy whose traps throw",
        )
        await check.rejects(
          () => users.getOrSet("user:options", () => good, throwingGetter("ttl") as never),
          ["InvalidArgument", "InvalidDuration"],
          "options whose ttl getter throws",
        )
        await check.rejects(
          () => users.getOrSet("user:options", () => good, { softTimeout: "banana" as never }),
          ["InvalidDuration"],
          'softTimeout "banana"',
        )
        check.done()
      })
    })

    it("set: hostile keys reject with InvalidKey, hostile values with InvalidValue, hostile options with InvalidArgument/InvalidDuration; nothing is written", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        for (const [name, key] of Object.entries(hostileStringKeys()))
          await check.rejects(() => users.set(key as string, good), ["InvalidKey"], `set key ${name}`)
        for (const [name, value] of Object.entries(hostileValues())) {
          await check.rejects(
            () => users.set("user:v", value as never),
            ["InvalidValue"],
            `set value ${name}`,
          )
          check.expect((await users.get("user:v")) === undefined, `set value ${name}: something was written`)
        }
        await check.rejects(
          () => users.set("user:o", good, throwingProxy() as never),
          ["InvalidArgument"],
          "set options that are a Proxy",
        )
        await check.rejects(
          () => users.set("user:o", good, { ttl: null as never }),
          ["InvalidArgument", "InvalidDuration"],
          "set ttl null",
        )
        check.expect((await users.get("user:o")) === undefined, "set with bad options: something was written")
        check.done()
      })
    })

    it("delete: hostile keys reject with InvalidKey", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        const profiles = cache.keyspace(Profiles)
        for (const [name, key] of Object.entries(hostileStringKeys()))
          await check.rejects(() => users.delete(key as string), ["InvalidKey"], `delete(${name})`)
        for (const [name, key] of Object.entries(hostileStructKeys()))
          await check.rejects(() => profiles.delete(key as never), ["InvalidKey"], `delete(${name})`)
        check.done()
      })
    })

    it("getMany: a keys argument that is not an array rejects with InvalidArgument, a hostile key inside with InvalidKey", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        const throwingIterable = {
          [Symbol.iterator]() {
            throw new Error("the iterator threw")
          },
        }
        for (const [name, keys] of Object.entries({
          null: null,
          "a number": 42,
          "a string": "user:42",
          "a Proxy whose traps throw": throwingProxy(),
          "an iterable whose iterator throws": throwingIterable,
        }))
          await check.rejects(() => users.getMany(keys as never), ["InvalidArgument"], `getMany(${name})`)
        for (const [name, key] of Object.entries(hostileStringKeys()))
          await check.rejects(
            () => users.getMany(["user:1", key as string]),
            ["InvalidKey"],
            `getMany with ${name}`,
          )
        check.done()
      })
    })

    it("setMany: bad entries reject with InvalidArgument/InvalidKey/InvalidValue, and nothing of the batch is written", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        const cases: Record<string, [unknown, ReadonlyArray<string>]> = {
          "entries null": [null, ["InvalidArgument"]],
          "entries a Proxy": [throwingProxy(), ["InvalidArgument"]],
          "an entry that is null": [[["user:a", good], null], ["InvalidArgument"]],
          "an entry without a value": [
            [["user:a", good], ["user:b"]],
            ["InvalidArgument", "InvalidValue"],
          ],
          "an entry with a hostile key": [
            [
              ["user:a", good],
              [throwingProxy(), good],
            ],
            ["InvalidKey"],
          ],
          "an entry with a hostile value": [
            [
              ["user:a", good],
              ["user:b", throwingGetter("name", { plan: "pro" })],
            ],
            ["InvalidValue"],
          ],
        }
        for (const [name, [entries, tags]] of Object.entries(cases)) {
          await check.rejects(() => users.setMany(entries as never), tags as never, `setMany(${name})`)
          check.expect(
            (await users.get("user:a")) === undefined,
            `setMany(${name}): part of the batch was written`,
          )
        }
        check.done()
      })
    })

    it("clear: called detached from its client and with stray arguments, it still just clears", async () => {
      await withCache(open, async (cache) => {
        const users = cache.keyspace(Users)
        await users.set("user:c", good)
        const { clear } = users
        const o = await outcome(() =>
          (clear as (...args: Array<unknown>) => Promise<void>)(throwingProxy(), 42),
        )
        expect(show(o)).toBe("ok")
        expect(await users.get("user:c")).toBeUndefined()
      })
    })

    it("peek: hostile keys throw InvalidKey synchronously (never a TypeError or a Proxy's own error)", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        const profiles = cache.keyspace(Profiles)
        for (const [name, key] of Object.entries(hostileStringKeys()))
          await check.throws(() => users.peek(key as string), ["InvalidKey"], `peek(${name})`)
        for (const [name, key] of Object.entries(hostileStructKeys()))
          await check.throws(() => profiles.peek(key as never), ["InvalidKey"], `peek(${name})`)
        check.done()
      })
    })

    it("increment: hostile keys reject with InvalidKey, a hostile amount with InvalidArgument", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const likes = cache.keyspace(Likes)
        for (const [name, key] of Object.entries(hostileStringKeys()))
          await check.rejects(
            () => likes.increment(key as string, 1),
            ["InvalidKey"],
            `increment key ${name}`,
          )
        await check.rejects(
          () => likes.increment("post:1", throwingProxy() as never),
          ["InvalidArgument"],
          "by Proxy",
        )
        check.done()
      })
    })

    it("invalidateTag: a tag that is not a string rejects with InvalidArgument", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        for (const [name, tag] of Object.entries({
          "a number": 42,
          null: null,
          undefined: undefined,
          "an object": {},
          "a symbol": Symbol("user:1"),
          "a Proxy whose traps throw": throwingProxy(),
        }))
          await check.rejects(
            () => cache.invalidateTag(tag as never),
            ["InvalidArgument"],
            `invalidateTag(${name})`,
          )
        check.done()
      })
    })

    it("close: concurrent and repeated closes, even detached, only resolve or fail with CacheClosed", async () => {
      const cache = await open()
      const { close } = cache
      const outcomes = await Promise.all([
        outcome(() => cache.close()),
        outcome(() => close()),
        outcome(() => cache.close()),
      ])
      const wrong = outcomes.map(show).filter((s) => s !== "ok" && s !== "rejected CacheClosed")
      expect(wrong, "close outcomes").toEqual([])
    })

    it("stats: detached, after a burst of hostile calls, it returns finite non-negative counters", async () => {
      await withCache(open, async (cache) => {
        const users = cache.keyspace(Users)
        const likes = cache.keyspace(Likes)
        await Promise.all([
          outcome(() => users.get(throwingProxy() as never)),
          outcome(() => users.set("user:s", throwingProxy() as never)),
          outcome(() => likes.increment("post:s", Number.NaN)),
          outcome(() => users.getOrSet("user:s", () => throwingProxy() as never)),
        ])
        const { stats } = cache
        const snapshot = stats() as unknown as Record<string, unknown>
        const bad = Object.entries(snapshot).filter(
          ([, v]) => typeof v === "number" && !(Number.isFinite(v) && v >= 0),
        )
        expect(bad, "counters that are not finite and non-negative").toEqual([])
      })
    })

    it("on: a listener that is not a function throws InvalidArgument, and later events reach the real listeners without a TypeError", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        for (const [name, listener] of Object.entries({
          null: null,
          "a number": 42,
          "a string": "log",
          "an object": { handleEvent() {} },
        }))
          await check.throws(() => cache.on(listener as never), ["InvalidArgument"], `on(${name})`)
        const seen: Array<string> = []
        cache.on((event) => seen.push(event._tag))
        // A stale value served on a loader failure emits StaleServed.
        const profiles = cache.keyspace(Profiles)
        await profiles.set({ userId: 1 }, { name: "stale soon" }, { ttl: 1 })
        await new Promise((resolve) => setTimeout(resolve, 5))
        const o = await outcome(() =>
          profiles.getOrSet({ userId: 1 }, async () => {
            throw new Error("the database is down")
          }),
        )
        expect(show(o), "getOrSet serves the stale value").toBe("ok")
        expect(seen).toContain("StaleServed")
        check.done()
      })
    })

    it("metrics: detached and with stray arguments, it resolves to the metric snapshots", async () => {
      await withCache(open, async (cache) => {
        const { metrics } = cache
        const o = await outcome(() =>
          (metrics as (...args: Array<unknown>) => Promise<unknown>)(throwingProxy()),
        )
        expect(show(o)).toBe("ok")
        if (o.kind === "resolved") expect(Array.isArray(o.value)).toBe(true)
      })
    })
  })

  describe(`per-call ttl + staleFor over 2^31 - 1 ms is InvalidDuration, as in Keyspace.make (${tier})`, () => {
    const over: Record<string, { ttl?: number | string; staleFor?: number | string }> = {
      "ttl 2^31 - 2 ms and staleFor 2 ms": { ttl: MAX_MS - 1, staleFor: 2 },
      "ttl 2^31 - 1 ms and staleFor 1 ms": { ttl: MAX_MS, staleFor: 1 },
      "ttl 13 days and staleFor 12 days": { ttl: "13 days", staleFor: "12 days" },
    }
    const overWithKeyspace: Record<string, { ttl?: string; staleFor?: string }> = {
      "ttl 21 days over the keyspace's 4 days of grace": { ttl: "21 days" },
      "staleFor 5 days over the keyspace's 20 days of TTL": { staleFor: "5 days" },
    }

    it("set rejects with InvalidDuration and writes nothing", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        const long = cache.keyspace(LongLived)
        for (const [name, options] of Object.entries(over)) {
          await check.rejects(
            () => users.set("user:13", good, options as never),
            ["InvalidDuration"],
            `set ${name}`,
          )
          check.expect((await users.get("user:13")) === undefined, `set ${name}: something was written`)
        }
        for (const [name, options] of Object.entries(overWithKeyspace)) {
          await check.rejects(() => long.set("x", { name: "x" }, options as never), ["InvalidDuration"], name)
          check.expect((await long.get("x")) === undefined, `${name}: something was written`)
        }
        check.done()
      })
    })

    it("setMany rejects with InvalidDuration and writes nothing", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        for (const [name, options] of Object.entries(over)) {
          await check.rejects(
            () => users.setMany([["user:13", good]], options as never),
            ["InvalidDuration"],
            `setMany ${name}`,
          )
          check.expect((await users.get("user:13")) === undefined, `setMany ${name}: something was written`)
        }
        check.done()
      })
    })

    it("getOrSet rejects with InvalidDuration before calling the loader", async () => {
      await withCache(open, async (cache) => {
        const check = checks()
        const users = cache.keyspace(Users)
        const long = cache.keyspace(LongLived)
        let calls = 0
        for (const [name, options] of Object.entries(over))
          await check.rejects(
            () =>
              users.getOrSet(
                `user:13:${name}`,
                () => {
                  calls++
                  return good
                },
                options as never,
              ),
            ["InvalidDuration"],
            `getOrSet ${name}`,
          )
        for (const [name, options] of Object.entries(overWithKeyspace))
          await check.rejects(
            () =>
              long.getOrSet(
                `x:${name}`,
                () => {
                  calls++
                  return { name: "x" }
                },
                options as never,
              ),
            ["InvalidDuration"],
            name,
          )
        check.expect(calls === 0, `the loader was called ${calls} times`)
        check.done()
      })
    })

    it("a per-call pair summing to exactly 2^31 - 1 ms is accepted (the limit is inclusive, as in Keyspace.make)", async () => {
      await withCache(open, async (cache: StrataCache) => {
        const users = cache.keyspace(Users)
        await users.set("user:edge", good, { ttl: MAX_MS - 5, staleFor: 5 })
        expect(await users.get("user:edge")).toEqual(good)
      })
    })
  })
}
