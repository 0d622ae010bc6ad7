/**
 * Issue 9, item 12: numbers. Every numeric or duration input of the public
 * facade (the amount of `increment`, the per-call `ttl`, `staleFor`,
 * `softTimeout`, `hardTimeout`, every numeric option of `createCache`,
 * numeric keys and values, and what `invalidateTag` and `on` receive) either
 * takes a hostile number exactly or rejects it with a typed error before
 * doing anything: never a silent default, never a corrupted counter, never
 * an untyped error. Property tests over `Arbitraries.hostileNumber`
 * (NaN, ±Infinity, -0, fractions, 2^53 and past it, numeric strings,
 * objects, bigints, symbols, Proxies...).
 */
import { createCache, type Facade } from "@strata/core"
import { Arbitraries } from "@strata/testkit"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  describeFailure,
  isTagged,
  Likes,
  MAX_MS,
  Numbers,
  outcome,
  show,
  type Tag,
  tiers,
  Users,
  withCache,
} from "./hostile.ts"

type Verdict = "valid" | "invalid" | "either"

/** Whether `x` is a `new Number(...)`; false for things that throw when looked at (a hostile Proxy). */
const isBoxedNumber = (x: unknown) => {
  try {
    return x instanceof Number
  } catch {
    return false
  }
}

/** How a duration input (ms as a number, nanos as a bigint, a string with a unit...) must be treated. */
const durationVerdict = (x: unknown, { allowZero = false, max = MAX_MS } = {}): Verdict => {
  if (x === undefined) return "valid"
  if (typeof x === "number") {
    if (!Number.isFinite(x) || x < 0) return "invalid"
    if (Object.is(x, -0)) return allowZero ? "either" : "invalid"
    if (x === 0) return allowZero ? "valid" : "invalid"
    // Below a nanosecond: rounding up to 1 ms and rejecting are both defensible.
    if (x < 1e-6) return "either"
    return Math.ceil(x) <= max ? "valid" : "invalid"
  }
  if (typeof x === "bigint") {
    if (x < 0n) return "invalid"
    if (x === 0n) return allowZero ? "valid" : "invalid"
    return (x + 999_999n) / 1_000_000n <= BigInt(max) ? "either" : "invalid"
  }
  if (typeof x === "string") {
    if (/^\s*(-?Infinity|NaN)?\s*$/.test(x)) return "invalid"
    // "1 minute" is a duration; whether a bare "1" is one is the parser's call.
    return /^\s*[\d.e+-]+(\s*[a-z]+)?\s*$/i.test(x) ? "either" : "invalid"
  }
  if (Array.isArray(x))
    return x.length === 2 && x.every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0)
      ? "either"
      : "invalid"
  // `{}` is an empty duration object: zero, which is a grace of nothing and no TTL at all.
  if (typeof x === "object" && x !== null && !isBoxedNumber(x) && allowZero) return "either"
  return "invalid"
}

/** How a count (entries, bytes, failures) must be treated: a positive safe integer. */
const countVerdict = (x: unknown): Verdict => {
  if (x === undefined) return "valid"
  if (typeof x !== "number" || !Number.isFinite(x) || !Number.isInteger(x) || x < 0) return "invalid"
  if (x === 0) return "either"
  if (!Number.isSafeInteger(x)) return "invalid"
  return x > MAX_MS ? "either" : "valid"
}

/** How a number of milliseconds for a timer must be treated. */
const millisVerdict = (x: unknown): Verdict => {
  if (x === undefined) return "valid"
  if (typeof x !== "number" || !Number.isFinite(x) || x < 0 || x > MAX_MS) return "invalid"
  if (x === 0 || !Number.isInteger(x)) return "either"
  return "valid"
}

/** Whether an outcome fits a verdict: resolved when valid, rejected with one of `tags` when invalid. */
const fits = (o: { kind: string; error?: unknown }, verdict: Verdict, tags: ReadonlyArray<Tag>) => {
  if (o.kind === "resolved") return verdict !== "invalid"
  return o.kind === "rejected" && verdict !== "valid" && isTagged(o.error, tags)
}

const shown = (x: unknown) => {
  try {
    return fc.stringify(x)
  } catch {
    return "<unprintable>"
  }
}
const RUNS = 100
/** Every named hostile number is tried first, then random ones: the properties fail the same way on every run. */
const EXAMPLES = Arbitraries.hostileNumbers.map((x) => [x] as [unknown])
const DURATION_TAGS: ReadonlyArray<Tag> = ["InvalidDuration", "InvalidArgument"]

for (const [tier, open] of Object.entries(tiers)) {
  describe(`hostile numbers through the facade (${tier})`, () => {
    it("increment by NaN, ±Infinity, 1.5, 2^53, '1', {} or null rejects with InvalidArgument and leaves the counter unchanged; -0 adds nothing", async () => {
      await withCache(open, async (cache) => {
        const likes = cache.keyspace(Likes)
        expect(await likes.increment("post:1", 5)).toBe(5)
        const wrong: Array<string> = []
        for (const by of [
          Number.NaN,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          1.5,
          2 ** 53,
          "1",
          {},
          null,
        ]) {
          const o = await outcome(() => likes.increment("post:1", by as number))
          if (!(o.kind === "rejected" && isTagged(o.error, ["InvalidArgument"])))
            wrong.push(`increment by ${shown(by)}: ${show(o)}${o.kind === "resolved" ? ` (${o.value})` : ""}`)
          const now = await likes.get("post:1")
          if (now !== 5) wrong.push(`after increment by ${shown(by)} the counter reads ${now}`)
        }
        const zero = await outcome(() => likes.increment("post:1", -0))
        if (!(zero.kind === "resolved" ? zero.value === 5 : isTagged(zero.error, ["InvalidArgument"])))
          wrong.push(`increment by -0: ${show(zero)}${zero.kind === "resolved" ? ` (${zero.value})` : ""}`)
        expect(await likes.get("post:1"), "the counter after -0").toBe(5)
        expect(await likes.increment("post:1", 1), "the counter still counts").toBe(6)
        expect(wrong).toEqual([])
      })
    })

    it("property: increment by any hostile number either adds it exactly or rejects with InvalidArgument and leaves the counter unchanged", async () => {
      await withCache(open, async (cache) => {
        const likes = cache.keyspace(Likes)
        let n = 0
        // Each run gets its own counter, started at a valid count (sometimes near 2^53, so sums can overflow).
        const start = fc.oneof(
          fc.integer({ min: -1_000_000, max: 1_000_000 }),
          fc.constantFrom(2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53 - 10),
        )
        await fc.assert(
          fc.asyncProperty(start, Arbitraries.hostileNumber, async (initial, by) => {
            const key = `post:p:${n++}`
            const before = await likes.increment(key, initial)
            const amount = by === undefined ? 1 : by
            const valid =
              typeof amount === "number" &&
              Number.isSafeInteger(amount) &&
              Number.isSafeInteger(before + amount)
            const o = await outcome(() => likes.increment(key, by as number))
            const after = await likes.get(key)
            if (valid) {
              expect(show(o), `increment ${before} by ${shown(by)}`).toBe("ok")
              expect(o.kind === "resolved" && o.value, `increment ${before} by ${shown(by)}`).toBe(
                before + (amount as number),
              )
            } else {
              expect(
                o.kind === "rejected" && isTagged(o.error, ["InvalidArgument"]),
                `increment ${before} by ${shown(by)}: ${show(o)}${o.kind === "resolved" ? ` = ${shown(o.value)}` : ""}`,
              ).toBe(true)
              expect(after, `the counter after increment ${before} by ${shown(by)}`).toBe(before)
            }
          }),
          { numRuns: RUNS, examples: Arbitraries.hostileNumbers.map((x) => [5, x] as [number, unknown]) },
        )
      })
    })

    for (const option of ["ttl", "staleFor"] as const) {
      for (const method of ["set", "setMany", "getOrSet"] as const) {
        it(`property: ${method} with a hostile ${option} stores exactly when it is a usable duration, else rejects with InvalidDuration/InvalidArgument`, async () => {
          await withCache(open, async (cache) => {
            const users = cache.keyspace(Users)
            let n = 0
            await fc.assert(
              fc.asyncProperty(Arbitraries.hostileNumber, async (x) => {
                const key = `user:${method}:${option}:${n++}`
                const value = { name: "Ada", plan: "pro" }
                const options = { [option]: x } as never
                const verdict =
                  option === "ttl"
                    ? durationVerdict(x)
                    : durationVerdict(x, { allowZero: true, max: MAX_MS - Users.ttlMillis })
                const o = await outcome(
                  (): Promise<unknown> =>
                    method === "set"
                      ? users.set(key, value, options)
                      : method === "setMany"
                        ? users.setMany([[key, value]], options)
                        : users.getOrSet(key, () => value, options),
                )
                expect(
                  fits(o, verdict, DURATION_TAGS),
                  `${option} ${shown(x)} (${verdict}): ${show(o)}`,
                ).toBe(true)
              }),
              { numRuns: RUNS, examples: EXAMPLES },
            )
          })
        })
      }
    }

    for (const option of ["softTimeout", "hardTimeout"] as const) {
      it(`property: getOrSet with a hostile ${option} loads when it is a usable duration, else rejects with InvalidDuration/InvalidArgument`, async () => {
        await withCache(open, async (cache) => {
          const users = cache.keyspace(Users)
          let n = 0
          await fc.assert(
            fc.asyncProperty(Arbitraries.hostileNumber, async (x) => {
              const o = await outcome(() =>
                users.getOrSet(`user:${option}:${n++}`, () => ({ name: "Ada", plan: "pro" }), {
                  [option]: x,
                } as never),
              )
              const verdict = durationVerdict(x)
              expect(fits(o, verdict, DURATION_TAGS), `${option} ${shown(x)} (${verdict}): ${show(o)}`).toBe(
                true,
              )
            }),
            { numRuns: RUNS, examples: EXAMPLES },
          )
        })
      })
    }

    it("property: numeric keys are used exactly when the key schema takes them, else InvalidKey, in get, peek, set, delete and getMany", async () => {
      await withCache(open, async (cache) => {
        const numbers = cache.keyspace(Numbers)
        await fc.assert(
          fc.asyncProperty(Arbitraries.hostileNumber, async (x) => {
            const key = x as number
            // Finite numbers are keys; -0 may be refused (it reads back as 0 in some encodings); the rest is InvalidKey.
            const fine = typeof x === "number" && Number.isFinite(x) && !Object.is(x, -0)
            const either = Object.is(x, -0)
            const outcomes = {
              set: await outcome(() => numbers.set(key, 7)),
              get: await outcome(() => numbers.get(key)),
              getMany: await outcome(() => numbers.getMany([key])),
              peek: await outcome(() => numbers.peek(key)),
              delete: await outcome(() => numbers.delete(key)),
            }
            for (const [name, o] of Object.entries(outcomes)) {
              const refused =
                o.kind === (name === "peek" ? "threw" : "rejected") && isTagged(o.error, ["InvalidKey"])
              const ok = fine ? o.kind === "resolved" : either ? o.kind === "resolved" || refused : refused
              expect(ok, `${name}(${shown(x)}): ${show(o)}`).toBe(true)
            }
            if (outcomes.set.kind === "resolved") {
              expect(show(outcomes.get), `get(${shown(x)}) after set`).toBe("ok")
              expect(
                (outcomes.get as { value: unknown }).value,
                `get(${shown(x)}) reads what set wrote`,
              ).toBe(7)
            }
          }),
          { numRuns: RUNS, examples: EXAMPLES },
        )
      })
    })

    it("property: numeric values are stored exactly (Object.is) or rejected with InvalidValue", async () => {
      await withCache(open, async (cache) => {
        const numbers = cache.keyspace(Numbers)
        let n = 0
        await fc.assert(
          fc.asyncProperty(Arbitraries.hostileNumber, async (x) => {
            const key = n++
            const o = await outcome(() => numbers.set(key, x as number))
            if (typeof x === "number" && Number.isFinite(x) && !Object.is(x, -0))
              expect(show(o), `set ${shown(x)}`).toBe("ok")
            else if (typeof x !== "number")
              expect(
                o.kind === "rejected" && isTagged(o.error, ["InvalidValue"]),
                `set ${shown(x)}: ${show(o)}`,
              ).toBe(true)
            else
              expect(
                o.kind === "resolved" || (o.kind === "rejected" && isTagged(o.error, ["InvalidValue"])),
                `set ${shown(x)}: ${show(o)}`,
              ).toBe(true)
            if (o.kind === "resolved") {
              const read = await numbers.get(key)
              expect(Object.is(read, x), `set ${shown(x)}, read ${shown(read)}`).toBe(true)
            }
          }),
          { numRuns: RUNS, examples: EXAMPLES },
        )
      })
    })

    it("property: invalidateTag with anything but a string rejects with InvalidArgument", async () => {
      await withCache(open, async (cache) => {
        await fc.assert(
          fc.asyncProperty(Arbitraries.hostileNumber, async (x) => {
            const o = await outcome(() => cache.invalidateTag(x as string))
            if (typeof x === "string")
              expect(
                o.kind === "resolved" || isTagged((o as { error: unknown }).error, ["InvalidArgument"]),
                `invalidateTag(${shown(x)}): ${show(o)}`,
              ).toBe(true)
            else
              expect(
                o.kind === "rejected" && isTagged(o.error, ["InvalidArgument"]),
                `invalidateTag(${shown(x)}): ${show(o)}`,
              ).toBe(true)
          }),
          { numRuns: RUNS, examples: EXAMPLES },
        )
      })
    })

    it("property: on with anything but a function throws InvalidArgument", async () => {
      await withCache(open, async (cache) => {
        await fc.assert(
          fc.asyncProperty(Arbitraries.hostileNumber, async (x) => {
            const o = await outcome(() => cache.on(x as never))
            expect(
              o.kind === "threw" && isTagged(o.error, ["InvalidArgument"]),
              `on(${shown(x)}): ${show(o)}`,
            ).toBe(true)
          }),
          { numRuns: 50, examples: EXAMPLES },
        )
      })
    })
  })
}

describe("hostile numbers in createCache's options (property, one per option)", () => {
  const options: Record<string, [(x: unknown) => Facade.CreateCacheOptions, (x: unknown) => Verdict]> = {
    "l1.maxEntries": [(x) => ({ l1: { maxEntries: x as number } }), countVerdict],
    "l1.maxBytes": [(x) => ({ l1: { maxBytes: x as number } }), countVerdict],
    "l1.maxTtl": [(x) => ({ l1: { maxTtl: x as number } }), (x) => durationVerdict(x)],
    "l1.busDownMaxTtl": [(x) => ({ l1: { busDownMaxTtl: x as number } }), (x) => durationVerdict(x)],
    maxEntryBytes: [(x) => ({ maxEntryBytes: x as number }), countVerdict],
    "lease.ttl": [(x) => ({ lease: { ttl: x as number } }), (x) => durationVerdict(x)],
    "lease.pollInterval": [(x) => ({ lease: { pollInterval: x as number } }), (x) => durationVerdict(x)],
    "loader.softTimeout": [(x) => ({ loader: { softTimeout: x as number } }), (x) => durationVerdict(x)],
    "loader.hardTimeout": [(x) => ({ loader: { hardTimeout: x as number } }), (x) => durationVerdict(x)],
    "circuitBreaker.failures": [(x) => ({ circuitBreaker: { failures: x as number } }), countVerdict],
    "circuitBreaker.cooldown": [
      (x) => ({ circuitBreaker: { cooldown: x as number } }),
      (x) => durationVerdict(x),
    ],
    metricsIntervalMillis: [(x) => ({ metricsIntervalMillis: x as number }), millisVerdict],
  }
  for (const [name, [build, verdictOf]] of Object.entries(options)) {
    it(`property: createCache with a hostile ${name} works when the value is usable, else rejects with InvalidArgument/InvalidDuration`, async () => {
      const { MemoryStore } = await import("@strata/core")
      await fc.assert(
        fc.asyncProperty(Arbitraries.hostileNumber, async (x) => {
          const verdict = verdictOf(x)
          const o = await outcome(() => createCache({ ...build(x), l2: MemoryStore.layer() }))
          if (o.kind === "resolved") {
            const cache = o.value
            try {
              // The cache works: a load returns its value (or a typed failure such as EntryTooLarge for a 1-byte limit).
              const loaded = await outcome(() =>
                cache.keyspace(Users).getOrSet("user:1", () => ({ name: "Ada", plan: "pro" })),
              )
              expect(
                loaded.kind === "resolved" ||
                  (loaded.kind === "rejected" && !describeFailure(loaded.error).startsWith("untyped")),
                `a cache made with ${name} ${shown(x)}: getOrSet ${show(loaded)}`,
              ).toBe(true)
            } finally {
              await cache.close()
            }
          }
          expect(
            fits(o, verdict, ["InvalidArgument", "InvalidDuration"]),
            `${name} ${shown(x)} (${verdict}): ${show(o)}`,
          ).toBe(true)
        }),
        { numRuns: 60, examples: EXAMPLES },
      )
    })
  }
})
