import { KeyEncoding, Keyspace } from "@strata/core"
import { Arbitraries } from "@strata/testkit"
import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

/** What the encoding promises to preserve: NFC strings, -0 as 0, undefined fields dropped. */
const canonical = (value: unknown): unknown => {
  if (typeof value === "string") return `s:${value.normalize("NFC")}`
  if (typeof value === "number") return `n:${value === 0 ? 0 : value}`
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === "object" && value !== null) {
    const out: Array<[string, unknown]> = []
    for (const name of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[name]
      if (field !== undefined) out.push([name.normalize("NFC"), canonical(field)])
    }
    return { fields: out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) }
  }
  return value
}

const tryEncode = (value: unknown) => {
  try {
    return KeyEncoding.encode(value)
  } catch (error) {
    expect(error).toBeInstanceOf(KeyEncoding.KeyEncodingError)
    return undefined
  }
}

describe("KeyEncoding", () => {
  it("is readable for simple keys", () => {
    expect(KeyEncoding.encode({ userId: 42 })).toBe("userId=42")
    expect(KeyEncoding.encode({ b: "x", a: 1 })).toBe("a=1,b='x'")
    expect(KeyEncoding.encode("42")).toBe("'42'")
    expect(KeyEncoding.encode(42)).toBe("42")
    expect(KeyEncoding.encode([1, "a", true, null])).toBe("[1,'a',true,null]")
    expect(KeyEncoding.encode({ f: { x: true } })).toBe("f=(x=true)")
    expect(KeyEncoding.encode({ q: "a:b*" })).toBe("q='a%3Ab%2A'")
  })

  it("is stable: these encodings never change (they are storage keys in production)", () => {
    expect(KeyEncoding.encode({ id: 7, slug: "red shoe", tags: ["a", "b"] })).toBe(
      "id=7,slug='red%20shoe',tags=['a','b']",
    )
    expect(KeyEncoding.encode({ name: "caf\u00e9" })).toBe("name='caf%C3%A9'")
    expect(KeyEncoding.encode({ e: "\uD83D\uDE00" })).toBe("e='%F0%9F%98%80'")
    expect(KeyEncoding.encode(1e21)).toBe("1e+21")
    expect(KeyEncoding.encode(10n)).toBe("10n")
    expect(KeyEncoding.hash("x")).toBe("LXEWQrcmsEQBYnyp-6wy9chTD7GQPMTbAiWHF5IaSIE")
  })

  it("writes struct fields in a fixed order whatever order the caller wrote them in", () => {
    expect(KeyEncoding.encode({ a: 1, b: 2, c: 3 })).toBe(KeyEncoding.encode({ c: 3, a: 1, b: 2 }))
  })

  it("tells 1 and '1' apart, and true and 'true', and null and 'null'", () => {
    expect(KeyEncoding.encode(1)).not.toBe(KeyEncoding.encode("1"))
    expect(KeyEncoding.encode(true)).not.toBe(KeyEncoding.encode("true"))
    expect(KeyEncoding.encode(null)).not.toBe(KeyEncoding.encode("null"))
    expect(KeyEncoding.encode({ a: 1 })).not.toBe(KeyEncoding.encode({ a: "1" }))
  })

  it("keeps segments apart: t:a + b and t + a:b never collide", () => {
    expect(KeyEncoding.encode({ x: "t:a", y: "b" })).not.toBe(KeyEncoding.encode({ x: "t", y: "a:b" }))
    expect(KeyEncoding.encode(["a,b"])).not.toBe(KeyEncoding.encode(["a", "b"]))
    expect(KeyEncoding.encode({ "a=1,b": 2 })).not.toBe(KeyEncoding.encode({ a: 1, b: 2 }))
  })

  it("normalises strings to NFC: precomposed and decomposed forms are the same key", () => {
    expect(KeyEncoding.encode("caf\u00e9")).toBe(KeyEncoding.encode("cafe\u0301"))
    expect(KeyEncoding.encode({ "\u00C5": 1 })).toBe(KeyEncoding.encode({ "\u212B": 1 }))
  })

  it("treats -0 as 0 and an undefined field as an absent one", () => {
    expect(KeyEncoding.encode(-0)).toBe("0")
    expect(KeyEncoding.encode({ a: 1, b: undefined })).toBe(KeyEncoding.encode({ a: 1 }))
  })

  it("rejects what it cannot encode: NaN, infinities, lone surrogates, functions, class instances", () => {
    for (const bad of [
      NaN,
      Infinity,
      -Infinity,
      "\uD800",
      { a: "x\uDC00" },
      () => 1,
      Symbol("s"),
      new Date(),
      new Map(),
      undefined,
      [undefined],
    ]) {
      expect(() => KeyEncoding.encode(bad)).toThrow(KeyEncoding.KeyEncodingError)
    }
  })

  it("never lets a reserved character through raw", () => {
    fc.assert(
      fc.property(Arbitraries.wellFormedString, (s) => {
        const body = KeyEncoding.escapeSegment(s)
        expect(body).toMatch(/^[A-Za-z0-9._\-~@/+!%]*$/)
      }),
      { numRuns: 1_000 },
    )
  })

  it("is injective: two keys share an encoding only if they are the same key (property)", () => {
    fc.assert(
      fc.property(Arbitraries.keyValue, Arbitraries.keyValue, (a, b) => {
        const ea = tryEncode(a)
        const eb = tryEncode(b)
        if (ea === undefined || eb === undefined) return
        expect(ea === eb).toBe(JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)))
      }),
      { numRuns: 5_000 },
    )
  })

  it("is injective on near-identical pairs: a key and a small edit of it never collide (property)", () => {
    const edited = Arbitraries.keyValue.chain((key) =>
      fc.tuple(
        fc.constant(key),
        fc.oneof(
          fc.constant([key]),
          fc.constant({ k: key }),
          fc.constant(typeof key === "string" ? Number(key) : (JSON.stringify(key) ?? "undefined")),
          fc.constant(typeof key === "string" ? `${key}'` : key),
        ),
      ),
    )
    fc.assert(
      fc.property(edited, ([a, b]) => {
        const ea = tryEncode(a)
        const eb = tryEncode(b)
        if (ea === undefined || eb === undefined) return
        expect(ea === eb).toBe(JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)))
      }),
      { numRuns: 2_000 },
    )
  })

  it("is injective against separator injection: a string holding the grammar's separators never forges a second field or item (property)", () => {
    const separator = fc.constantFrom(
      "','",
      "',",
      ",'",
      ",",
      "=",
      "'",
      "(",
      ")",
      "[",
      "]",
      ":",
      "',b='",
      "')",
      "%27",
      "%",
    )
    fc.assert(
      fc.property(Arbitraries.wellFormedString, separator, Arbitraries.wellFormedString, (x, sep, y) => {
        const pairs: Array<[unknown, unknown]> = [
          [[x + sep + y], [x, y]],
          [{ a: x + sep + y }, { a: x, b: y }],
          [{ a: x + sep + y }, { a: x, [sep]: y }],
          [{ a: [x + sep + y] }, { a: [x], b: [y] }],
          [x + sep + y, [x, y]],
        ]
        for (const [a, b] of pairs) {
          const ea = tryEncode(a)
          const eb = tryEncode(b)
          if (ea === undefined || eb === undefined) continue
          expect(ea === eb).toBe(JSON.stringify(canonical(a)) === JSON.stringify(canonical(b)))
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it("is deterministic: the same key encodes the same way every time (property)", () => {
    fc.assert(
      fc.property(Arbitraries.keyValue, (key) => {
        const first = tryEncode(key)
        expect(tryEncode(structuredClone(key))).toBe(first)
      }),
      { numRuns: 1_000 },
    )
  })

  it("hashes keys over 256 characters, keeping a readable start and the hash tag", () => {
    const Search = Keyspace.make({ name: "search", key: Schema.String, value: Schema.Unknown, ttl: 1000 })
    const long = "x".repeat(1000)
    const key = Search.storeKey(long)
    expect(key.length + Search.id.length + 1).toBeLessThanOrEqual(KeyEncoding.MAX_KEY_LENGTH)
    expect(key.startsWith("'xxxx")).toBe(true)
    expect(key).toMatch(/#[A-Za-z0-9_-]{43}$/)
    expect(Search.storeKey(`${long}y`)).not.toBe(key)
    const Tagged = Keyspace.make({
      name: "search.tagged",
      key: Schema.Struct({ tenant: Schema.String, q: Schema.String }),
      value: Schema.Unknown,
      ttl: 1000,
      hashTag: ({ tenant }) => tenant,
    })
    const tagged = Tagged.storeKey({ tenant: "acme", q: long })
    expect(tagged.startsWith("{acme}:")).toBe(true)
    expect(tagged).toMatch(/#[A-Za-z0-9_-]{43}$/)
  })

  it("a hashed key never equals an unhashed one (property)", () => {
    const Search = Keyspace.make({ name: "s", key: Schema.String, value: Schema.Unknown, ttl: 1000 })
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.string({ maxLength: 400 }), (a, b) => {
        if (!(a as unknown as { isWellFormed(): boolean }).isWellFormed()) return
        if (!(b as unknown as { isWellFormed(): boolean }).isWellFormed()) return
        if (a.normalize("NFC") === b.normalize("NFC")) return
        expect(Search.storeKey(a)).not.toBe(Search.storeKey(b))
      }),
      { numRuns: 1_000 },
    )
  })

  it("puts a keyspace-wide hash tag in braces, and braces in keys never form a tag", () => {
    const Slot = Keyspace.make({
      name: "cart",
      key: Schema.String,
      value: Schema.Unknown,
      ttl: 1000,
      hashTag: "keyspace",
    })
    expect(Slot.storeKey("a")).toBe("{cart%3Av1}:'a'")
    const Plain = Keyspace.make({ name: "plain", key: Schema.String, value: Schema.Unknown, ttl: 1000 })
    expect(Plain.storeKey("{x}")).toBe("'%7Bx%7D'")
  })
})
