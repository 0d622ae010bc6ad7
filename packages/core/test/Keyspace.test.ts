import { InvalidKey, InvalidKeyspace, Keyspace } from "@strata/core"
import { Arbitraries } from "@strata/testkit"
import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const Profile = Schema.Struct({ name: Schema.String, plan: Schema.Literals(["free", "pro"]) })
const Profiles = Keyspace.make({
  name: "user.profile",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Profile,
  ttl: "1 hour",
  staleFor: "1 day",
  tags: ({ userId }) => [`user:${userId}`],
  version: 2,
})

describe("Keyspace", () => {
  it("derives its id, times and storage keys from its declaration", () => {
    expect(Profiles.id).toBe("user.profile:v2")
    expect(Profiles.ttlMillis).toBe(3_600_000)
    expect(Profiles.staleForMillis).toBe(86_400_000)
    expect(`${Profiles.id}:${Profiles.storeKey({ userId: 42 })}`).toBe("user.profile:v2:userId=42")
    expect(Profiles.tags?.({ userId: 42 })).toEqual(["user:42"])
  })

  it("infers key and value types, so a wrong shape is a compile error", () => {
    // Each line below must fail to compile; `tsc -b` checks the test sources.
    // @ts-expect-error a string is not the key type
    expect(() => Profiles.storeKey("42")).toThrow(InvalidKey)
    // @ts-expect-error userId must be a number
    expect(() => Profiles.storeKey({ userId: "42" })).toThrow(InvalidKey)
    const value: Keyspace.Value<typeof Profiles> = { name: "Ada", plan: "pro" }
    // @ts-expect-error plan is a closed set
    const wrong: Keyspace.Value<typeof Profiles> = { name: "Ada", plan: "gold" }
    const key: Keyspace.Key<typeof Profiles> = { userId: 1 }
    expect([value, wrong, key]).toHaveLength(3)
  })

  it("rejects a key that fails its schema with InvalidKey naming the keyspace", () => {
    try {
      Profiles.storeKey({ userId: 1.5 })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidKey)
      expect((error as InvalidKey).keyspace).toBe("user.profile:v2")
      expect((error as InvalidKey).message).toContain("integer")
    }
  })

  it("validates the name with a clear error", () => {
    for (const name of ["", "User", "user profile", "user:profile", "_internal", "-x", "é", "x".repeat(65)]) {
      expect(() => Keyspace.make({ name, key: Schema.String, value: Schema.String, ttl: 1000 })).toThrow(
        InvalidKeyspace,
      )
    }
    expect(() =>
      Keyspace.make({ name: "User", key: Schema.String, value: Schema.String, ttl: 1000 }),
    ).toThrow(/\[a-z0-9._-\]/)
    for (const name of ["a", "0", "user.profile", "a-b_c.d", "x".repeat(64)]) {
      expect(Keyspace.make({ name, key: Schema.String, value: Schema.String, ttl: 1000 }).name).toBe(name)
    }
  })

  it("rejects a zero, negative, NaN, infinite or 2^31 ms TTL, and a bad version", () => {
    const make = (ttl: unknown, staleFor?: unknown, version?: number) => () =>
      Keyspace.make({
        name: "x",
        key: Schema.String,
        value: Schema.String,
        ttl: ttl as never,
        staleFor: staleFor as never,
        version,
      })
    for (const ttl of [
      0,
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      "Infinity",
      2 ** 31,
      "25 days",
      "soon",
      "-5 seconds",
    ]) {
      expect(make(ttl), `ttl ${String(ttl)}`).toThrow(InvalidKeyspace)
    }
    expect(make(1000, -1)).toThrow(InvalidKeyspace)
    expect(make("20 days", "5 days")).toThrow(/2\^31/)
    expect(make(1000, undefined, 0)).toThrow(InvalidKeyspace)
    expect(make(1000, undefined, 1.5)).toThrow(InvalidKeyspace)
    expect(make(2 ** 31 - 1)().ttlMillis).toBe(2 ** 31 - 1)
    expect(make("1.5 millis")().ttlMillis).toBe(2)
    expect(make(1000, 0)().staleForMillis).toBe(0)
  })

  it("accepts every valid definition, and distinct (name, version) pairs never share an id (property)", () => {
    fc.assert(
      fc.property(Arbitraries.keyspaceDefinition, Arbitraries.keyspaceDefinition, (a, b) => {
        const make = (d: typeof a) =>
          Keyspace.make({
            name: d.name,
            version: d.version,
            ttl: d.ttlMillis,
            staleFor: d.staleForMillis,
            key: Schema.String,
            value: Schema.String,
          })
        const ka = make(a)
        const kb = make(b)
        expect(ka.ttlMillis).toBe(a.ttlMillis)
        expect(ka.id === kb.id).toBe(a.name === b.name && a.version === b.version)
        expect(`${ka.id}:${ka.storeKey("k")}` === `${kb.id}:${kb.storeKey("k")}`).toBe(ka.id === kb.id)
      }),
      { numRuns: 1_000 },
    )
  })

  it("a lookup key equals the validated store key for every valid key, and an invalid key's lookup key is no valid key's store key (property)", () => {
    const Users = Keyspace.make({
      name: "users",
      key: Schema.Struct({ id: Schema.Int, name: Schema.String }),
      value: Schema.String,
      ttl: 1000,
    })
    const candidate = fc.record({
      id: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(-0)),
      name: fc.oneof(Arbitraries.hostileString, fc.integer()),
      extra: fc.option(fc.string(), { nil: undefined }),
    })
    fc.assert(
      fc.property(candidate, candidate, (a, b) => {
        const valid = (k: unknown) => {
          try {
            return Users.storeKey(k as never)
          } catch {
            return undefined
          }
        }
        const storeA = valid(a)
        const lookupA = Users.lookupKey(a as never)
        if (storeA !== undefined) expect(lookupA).toBe(storeA)
        const storeB = valid(b)
        if (storeA === undefined && storeB !== undefined && lookupA !== undefined)
          expect(lookupA).not.toBe(storeB)
      }),
      { numRuns: 3_000 },
    )
    const Transformed = Keyspace.make({
      name: "t",
      key: Schema.NumberFromString,
      value: Schema.String,
      ttl: 1000,
    })
    expect(Transformed.lookupKey(5)).toBeUndefined()
  })

  it("declares counters whose values are integers", () => {
    const Views = Keyspace.counter({ name: "page.views", key: Schema.String, ttl: "1 day" })
    expect(Views.kind).toBe("counter")
    expect(Keyspace.isKeyspace(Views)).toBe(true)
    expect(Keyspace.isKeyspace({ name: "x" })).toBe(false)
  })
})

describe("a key that cannot be read", () => {
  it("names the error its getter threw (not the schema runner's wrapper)", () => {
    const K = Keyspace.make({
      name: "ks.getter",
      key: Schema.Struct({ id: Schema.Int }),
      value: Schema.String,
      ttl: "1 minute",
    })
    const key = {
      get id(): number {
        throw new Error("getter boom")
      },
    }
    try {
      K.storeKey(key)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidKey)
      expect((error as InvalidKey).message).toContain("getter boom")
    }
  })
})

describe("misspelt keyspace options", () => {
  it("an unknown option is InvalidKeyspace at declaration, for make and counter", () => {
    const base = { name: "ks.typo", key: Schema.String, value: Schema.String, ttl: "1 minute" } as const
    expect(() => Keyspace.make({ ...base, staleFr: "1 day" } as never)).toThrow(InvalidKeyspace)
    expect(() =>
      Keyspace.counter({ name: "ks.count", key: Schema.String, ttl: "1 minute", tll: 5 } as never),
    ).toThrow(InvalidKeyspace)
    expect(() => Keyspace.make({ ...base, staleFor: "1 day" })).not.toThrow()
  })
})
