/**
 * fast-check arbitraries for Strata's inputs: keyspace definitions, keys and
 * values, biased towards the strings that break hand-made caches (glob
 * characters in SCAN patterns, separators, NUL and CRLF, lone surrogates,
 * `__proto__` and `constructor`, NFC/NFD twins, very long strings).
 *
 * @since 0.1.0
 */
import fc from "fast-check"

/** Strings that have broken caches: separators, glob characters, control characters, prototype names, Unicode twins. */
export const hostileStrings: ReadonlyArray<string> = [
  "",
  " ",
  "*",
  "?",
  "[12]",
  "[",
  "]",
  "\\",
  ":",
  "a:b",
  "t:a",
  "{",
  "}",
  "{tag}",
  "'",
  '"',
  "%",
  "%3A",
  "#",
  "=",
  ",",
  "(",
  ")",
  "\0",
  "\r\n",
  "\n",
  "\t",
  "\uD800",
  "\uDC00",
  "\uD83D\uDE00",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "caf\u00e9",
  "cafe\u0301",
  "\u212B",
  "\u00C5",
  "1",
  "-0",
  "NaN",
  "true",
  "null",
  "x".repeat(300),
  "é".repeat(200),
]

/** A hostile string, or any string (including lone surrogates), or a very long one. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...hostileStrings) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 600 }) },
)

/** A string with no lone surrogates: what a key or value string may hold. */
export const wellFormedString: fc.Arbitrary<string> = hostileString.filter((s) =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed(),
)

/** A keyspace name: 1 to 64 characters of `[a-z0-9._-]`, starting with a letter or digit. */
export const keyspaceName: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"),
    fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789._-"), maxLength: 40 }),
  )
  .map(([first, rest]) => first + rest)

/** A keyspace definition's plain parts (name, version, TTL and grace in ms). */
export const keyspaceDefinition = fc.record({
  name: keyspaceName,
  version: fc.integer({ min: 1, max: 1000 }),
  ttlMillis: fc.integer({ min: 1, max: 86_400_000 }),
  staleForMillis: fc.integer({ min: 0, max: 86_400_000 }),
})

/** A scalar a key may hold in its encoded form. */
export const keyScalar: fc.Arbitrary<string | number | boolean | null> = fc.oneof(
  wellFormedString,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
)

/** The encoded form of a key: scalars, arrays and plain objects with hostile field names. */
export const keyValue: fc.Arbitrary<unknown> = fc.letrec<{ key: unknown }>((tie) => ({
  key: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    keyScalar,
    fc.array(tie("key"), { maxLength: 4 }),
    fc.dictionary(wellFormedString, tie("key"), { maxKeys: 4 }).map((d) => ({ ...d })),
  ),
})).key

/** A struct key `{ id, ...}` with a hostile string field and an integer field, as user keys usually are. */
export const structKey = fc.record({ id: fc.integer(), name: wellFormedString })

/**
 * Plain data that must survive a store round trip exactly: JSON-like values
 * with hostile strings, but none of what Strata rejects (`-0`, lone
 * surrogates, `__proto__` keys).
 */
export const storableValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    wellFormedString,
    fc.integer(),
    fc.double({ noNaN: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 5 }),
    fc
      .dictionary(
        wellFormedString.filter((s) => s !== "__proto__"),
        tie("value"),
        { maxKeys: 5 },
      )
      .map((d) => ({ ...d })),
  ),
})).value

/** Arbitrary bytes, including empty ones, for stores. */
export const bytes: fc.Arbitrary<Uint8Array> = fc.uint8Array({ maxLength: 2048 })

/**
 * Inputs that break code expecting a number: `NaN`, `±Infinity`, `-0`,
 * fractions, the edges of 32-bit and safe-integer ranges and past them,
 * the smallest and largest doubles, and values of the wrong type that a
 * caller may still pass from untyped code (numeric strings, `null`,
 * `undefined`, booleans, bigints, symbols, objects, boxed numbers, arrays,
 * an object whose `valueOf` throws, a Proxy whose traps throw). Every public
 * numeric input of a library should either accept one of these exactly or
 * reject it with a typed error before doing anything.
 */
export const hostileNumbers: ReadonlyArray<unknown> = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  1,
  -1,
  0.5,
  1.5,
  -1.5,
  1e-7,
  Number.MIN_VALUE,
  Number.EPSILON,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  "1",
  "NaN",
  "",
  " 1 ",
  "1e3",
  "0x10",
  "Infinity",
  null,
  undefined,
  true,
  false,
  1n,
  -1n,
  2n ** 64n,
  Symbol("n"),
  {},
  [],
  [1],
  [1, 2],
  Object.create(null),
  new Number(1),
  {
    valueOf() {
      throw new Error("valueOf threw")
    },
  },
  // Every trap throws, except for symbols, which fast-check itself asks for to clone or print a counterexample.
  new Proxy(
    {},
    {
      get(_, property) {
        if (property === fc.toStringMethod) return () => "<a Proxy whose traps throw>"
        if (typeof property === "symbol") return undefined
        throw new Error("a Proxy trap threw")
      },
      has(_, property) {
        if (typeof property === "symbol") return property === fc.toStringMethod
        throw new Error("a Proxy trap threw")
      },
      ownKeys() {
        throw new Error("a Proxy trap threw")
      },
      getPrototypeOf() {
        throw new Error("a Proxy trap threw")
      },
    },
  ),
]

/**
 * A hostile input where a number is expected: one of {@link hostileNumbers},
 * or any double (including `NaN`, `±Infinity` and `-0`), any integer, a
 * short string, or a bigint. Typed `unknown` on purpose: pass it through a
 * cast to the parameter's type, as untyped callers do.
 *
 * @example
 * ```ts
 * fc.assert(fc.asyncProperty(Arbitraries.hostileNumber, async (by) => {
 *   const outcome = await counter.increment("k", by as number).then(() => "ok", (e) => e._tag)
 *   expect(["ok", "InvalidArgument"]).toContain(outcome)
 * }))
 * ```
 */
export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...hostileNumbers) },
  { weight: 2, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }) },
)
