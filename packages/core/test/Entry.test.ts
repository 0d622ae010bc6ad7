import { Entry, InvalidValue, Keyspace } from "@strata/core"
import { Arbitraries } from "@strata/testkit"
import { Result, Schema } from "effect"
import fc from "fast-check"
import { pack as msgpackrPack, Packr } from "msgpackr"
import { describe, expect, it } from "vitest"
import * as Msgpack from "../src/internal/msgpack.ts"

const Docs = Keyspace.make({ name: "docs", key: Schema.String, value: Schema.Unknown, ttl: 1000 })
const Users = Keyspace.make({
  name: "users",
  key: Schema.Int,
  value: Schema.Struct({ name: Schema.String, born: Schema.optional(Schema.Int) }),
  ttl: 1000,
})

const encode = <V>(ks: Keyspace.Keyspace<any, V>, value: V) => Entry.encode(ks, value, 1, 2, 3, undefined)

describe("Entry", () => {
  it("round-trips an entry with its times and tag versions", () => {
    const encoded = Entry.encode(Users, { name: "Ada" }, 10, 20, 30, ["user:1", 4])
    expect(Result.isSuccess(encoded)).toBe(true)
    const decoded = Entry.decode(Users, Result.getOrThrow(encoded).bytes)
    expect(Result.getOrThrow(decoded)).toEqual({
      value: { name: "Ada" },
      createdAt: 10,
      freshUntil: 20,
      staleUntil: 30,
      tagVersions: ["user:1", 4],
    })
  })

  it("stores plain data exactly: whatever it accepts reads back equal (property)", () => {
    fc.assert(
      fc.property(Arbitraries.storableValue, (value) => {
        const bytes = Result.getOrThrow(encode(Docs, value)).bytes
        expect(Result.getOrThrow(Entry.decode(Docs, bytes)).value).toEqual(value)
      }),
      { numRuns: 2_000 },
    )
  })

  it("keeps constructor, toString and other prototype names as plain data", () => {
    const value = {
      constructor: 1,
      toString: "x",
      hasOwnProperty: null,
      nested: { constructor: { prototype: 2 } },
    }
    const back = Result.getOrThrow(Entry.decode(Docs, Result.getOrThrow(encode(Docs, value)).bytes))
      .value as object
    expect(back).toEqual(value)
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
  })

  it("rejects at write what cannot round-trip exactly, with InvalidValue naming the path", () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    const cases: Array<[unknown, RegExp]> = [
      [JSON.parse('{"a":{"__proto__":{"polluted":true}}}'), /__proto__/],
      [{ a: -0 }, /-0/],
      [{ s: "x\uD800" }, /surrogate/],
      [{ f: () => 1 }, /function/],
      [{ s: Symbol("x") }, /symbol/],
      [{ b: 10n }, /bigint/],
      [cycle, /cycle/],
      [{ m: new Map() }, /Map/],
      [{ r: /x/ }, /RegExp/],
      [{ d: new Date(Number.NaN) }, /invalid Date/],
      // biome-ignore lint/suspicious/noSparseArray: a sparse array is what this case checks
      [[1, , 3], /sparse/],
      [{ t: new Uint16Array(2) }, /Uint16Array/],
    ]
    for (const [value, message] of cases) {
      const result = encode(Docs, value)
      expect(Result.isFailure(result), String(message)).toBe(true)
      const error = (result as Result.Failure<unknown, InvalidValue>).failure
      expect(error).toBeInstanceOf(InvalidValue)
      expect(error.message).toMatch(message)
    }
    expect(Object.prototype).not.toHaveProperty("polluted")
  })

  it("rejects a value that fails its schema, and lets the schema decide about undefined", () => {
    expect(Result.isFailure(encode(Users, { name: 1 } as never))).toBe(true)
    expect(Result.isFailure(encode(Users, { name: "a", extra: undefined, born: "x" } as never))).toBe(true)
    const optional = encode(Users, { name: "a", born: undefined })
    expect(Result.getOrThrow(Entry.decode(Users, Result.getOrThrow(optional).bytes)).value).toEqual({
      name: "a",
      born: undefined,
    })
    const withDate = encode(Docs, { at: new Date(5) })
    expect(Result.getOrThrow(Entry.decode(Docs, Result.getOrThrow(withDate).bytes)).value).toEqual({
      at: new Date(5),
    })
  })

  it("reads corrupt bytes as a reason, never an exception (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = Entry.decode(Docs, bytes)
        if (Result.isFailure(result)) expect(typeof result.failure).toBe("string")
      }),
      { numRuns: 5_000 },
    )
  })

  it("reads truncated and bit-flipped entries as a reason, never an exception (property)", () => {
    fc.assert(
      fc.property(
        Arbitraries.storableValue,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (value, at, flip) => {
          const bytes = Result.getOrThrow(encode(Docs, value)).bytes
          const cut = bytes.slice(0, at % (bytes.length + 1))
          const flipped = bytes.slice()
          flipped[at % bytes.length] = flipped[at % bytes.length]! ^ flip
          for (const b of [cut, flipped]) expect(() => Entry.decode(Docs, b)).not.toThrow()
        },
      ),
      { numRuns: 2_000 },
    )
  })

  it("refuses bytes that would build classes or touch prototypes: msgpackr extensions, records, __proto__", () => {
    const hostile = new Packr({ structuredClone: true, moreTypes: true, useRecords: true })
    const wrap = (value: unknown) => msgpackrPack([Entry.FORMAT, 1, 2, 3, null, value])
    for (const value of [new Error("x"), /re/g, new Set([1]), new Uint16Array([1]), [{ a: 1 }, { a: 2 }]]) {
      const bytes = hostile.pack([Entry.FORMAT, 1, 2, 3, null, value])
      const result = Entry.decode(Docs, bytes)
      if (Result.isSuccess(result)) {
        expect(Object.getPrototypeOf(result.success.value)).toBeOneOf([Object.prototype, Array.prototype])
      }
    }
    const proto = Buffer.concat([
      Buffer.from([0x96, Entry.FORMAT, 1, 2, 3, 0xc0, 0x81, 0xa9]),
      Buffer.from("__proto__"),
      Buffer.from([0x81, 0xa1, 0x78, 1]),
    ])
    expect(Entry.decode(Docs, proto)).toEqual(Result.fail(expect.stringContaining("__proto__")))
    expect(({} as Record<string, unknown>).x).toBeUndefined()
    expect(Result.isFailure(Entry.decode(Docs, Buffer.from([0xc1])))).toBe(true)
    expect(Result.isFailure(Entry.decode(Docs, wrap(undefined).subarray(0, 3)))).toBe(true)
  })

  it("reads an unknown format, malformed times or a value failing the schema as a reason", () => {
    const bytes = (envelope: unknown) => msgpackrPack(envelope)
    expect(Entry.decode(Docs, bytes([99, 1, 2, 3, null, "x"]))).toEqual(
      Result.fail("unknown entry format 99"),
    )
    expect(Result.isFailure(Entry.decode(Docs, bytes([1, "a", 2, 3, null, "x"])))).toBe(true)
    expect(Result.isFailure(Entry.decode(Docs, bytes([1, 1, 5, 3, null, "x"])))).toBe(true)
    expect(Result.isFailure(Entry.decode(Docs, bytes([1, 1, 2, 3, ["t"], "x"])))).toBe(true)
    expect(Result.isFailure(Entry.decode(Users, bytes([1, 1, 2, 3, null, { name: 5 }])))).toBe(true)
    expect(Result.isFailure(Entry.decode(Docs, bytes({ not: "an envelope" })))).toBe(true)
  })

  it("stores counters as decimal text", () => {
    const Views = Keyspace.counter({ name: "views", key: Schema.String, ttl: 1000 })
    const bytes = Result.getOrThrow(Entry.encode(Views, 42, 0, 0, 0, undefined)).bytes
    expect(new TextDecoder().decode(bytes)).toBe("42")
    expect(Result.getOrThrow(Entry.decode(Views, bytes)).value).toBe(42)
    expect(Entry.parseCounter(new TextEncoder().encode("-7"))).toBe(-7)
    for (const bad of ["", "01", "1.5", "x", "9".repeat(17), "+1"]) {
      expect(Entry.parseCounter(new TextEncoder().encode(bad)), bad).toBeUndefined()
    }
  })
})

describe("the strict msgpack decoder", () => {
  it("reads everything msgpackr writes for plain data (property)", () => {
    fc.assert(
      fc.property(Arbitraries.storableValue, (value) => {
        expect(Msgpack.unpack(Msgpack.pack(value))).toEqual(value)
      }),
      { numRuns: 2_000 },
    )
  })

  it("reads numbers of every width, binary and long strings", () => {
    for (const value of [
      0,
      127,
      128,
      255,
      256,
      65_535,
      65_536,
      2 ** 32,
      2 ** 53 - 1,
      -1,
      -32,
      -33,
      -129,
      -32_769,
      -(2 ** 31) - 1,
      0.5,
      1e300,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ]) {
      expect(Msgpack.unpack(Msgpack.pack(value))).toEqual(value)
    }
    expect(Msgpack.unpack(Msgpack.pack(new Uint8Array([1, 2, 3])))).toEqual(new Uint8Array([1, 2, 3]))
    const long = "é".repeat(70_000)
    expect(Msgpack.unpack(Msgpack.pack(long))).toBe(long)
    const big = Array.from({ length: 70_000 }, (_, i) => i)
    expect(Msgpack.unpack(Msgpack.pack(big))).toEqual(big)
    const wide = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i]))
    expect(Msgpack.unpack(Msgpack.pack(wide))).toEqual(wide)
  })

  it("throws only Undecodable on any input (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          Msgpack.unpack(bytes)
        } catch (error) {
          expect(error).toBeInstanceOf(Msgpack.Undecodable)
        }
      }),
      { numRuns: 5_000 },
    )
  })
})
