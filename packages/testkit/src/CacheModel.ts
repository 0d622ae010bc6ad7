/**
 * A model-based test of a single-tier cache: random sequences of commands
 * run against the real cache (driven by `TestClock`) and against a `Map`
 * model with absolute expiry, and every answer must agree. Register it for a
 * cache configuration with {@link cacheModel}.
 *
 * @since 0.1.0
 */
import { Cache, Keyspace } from "@strata/core"
import { Effect, Layer, ManagedRuntime, Option, Schema } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Arbitraries from "./Arbitraries.ts"

/** The configuration under test. */
export interface CacheUnderTest {
  /** A fresh cache layer per run; it reads time from `TestClock`. */
  readonly layer: () => Layer.Layer<Cache.Cache>
  /** Command sequences per invariant; default 1,000. */
  readonly numRuns?: number | undefined
  /**
   * The cache may evict (a bounded L1 with no tier behind it): a read may
   * then miss where the model still holds the entry, and the model forgets
   * it. A read may still never return a value the model does not hold, and
   * a read right after a write must still see it.
   */
  readonly evicts?: boolean | undefined
}

const Item = Schema.Struct({ n: Schema.Int, label: Schema.String, list: Schema.Array(Schema.Int) })
type Item = typeof Item.Type

/** Two keyspaces whose names and keys invite collisions: same key schema, prefix-sharing names. */
const Items = Keyspace.make({
  name: "model.item",
  key: Schema.Struct({ id: Schema.Int, name: Schema.String }),
  value: Item,
  ttl: 1_000,
  tags: ({ id }) => [`id:${id}`],
})
const ItemsToo = Keyspace.make({
  name: "model.item.too",
  key: Schema.Struct({ id: Schema.Int, name: Schema.String }),
  value: Item,
  ttl: 1_000,
})
const Documents = Keyspace.make({
  name: "model.doc",
  key: Schema.String,
  value: Schema.Unknown,
  ttl: 500,
})

type Space = typeof Items | typeof ItemsToo
const spaces: ReadonlyArray<Space> = [Items, ItemsToo]

interface ModelEntry {
  readonly value: unknown
  readonly freshUntil: number
  readonly tags: ReadonlyArray<string>
}

/** The model: what a correct cache answers. Keys are normalised as the key encoding documents (NFC). */
class Model {
  constructor(readonly evicts: boolean) {}
  now = 0
  loads = 0
  readonly entries = new Map<string, ModelEntry>()
  static key(space: string, key: unknown) {
    return `${space}|${JSON.stringify(key, (_, v) => (typeof v === "string" ? v.normalize("NFC") : v))}`
  }
  fresh(space: string, key: unknown): unknown {
    const entry = this.entries.get(Model.key(space, key))
    return entry !== undefined && this.now < entry.freshUntil ? entry.value : undefined
  }
  /** What the real cache answered for a read, checked against the model; `invariant` names the property. */
  expectRead(space: string, key: unknown, got: Option.Option<unknown>, invariant: string) {
    const expected = this.fresh(space, key)
    if (this.evicts && Option.isNone(got)) {
      this.entries.delete(Model.key(space, key))
      return
    }
    expect(got, invariant).toEqual(some(expected))
  }
  set(space: string, key: unknown, value: unknown, ttl: number, tags: ReadonlyArray<string> = []) {
    this.entries.set(Model.key(space, key), { value, freshUntil: this.now + ttl, tags })
  }
}

interface Real {
  readonly cache: Cache.Service
  readonly run: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  readonly loads: { count: number }
}

type Command = fc.AsyncCommand<Model, Real>

const itemKey = fc.record({
  id: fc.integer({ min: 0, max: 3 }),
  name: fc.constantFrom("a", "a:b", "t:a", "", "caf\u00e9", "cafe\u0301", "*", "__proto__", "constructor"),
})
const item: fc.Arbitrary<Item> = fc.record({
  n: fc.integer(),
  label: Arbitraries.wellFormedString,
  list: fc.array(fc.integer(), { maxLength: 4 }),
})
const space = fc.constantFrom(...spaces)
const ttl = fc.option(fc.integer({ min: 1, max: 3_000 }), { nil: undefined })

const some = (value: unknown) => (value === undefined ? Option.none() : Option.some(value))

class SetCommand implements Command {
  constructor(
    readonly space: Space,
    readonly key: { id: number; name: string },
    readonly value: Item,
    readonly ttl: number | undefined,
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    await real.run(real.cache.set(this.space, this.key, this.value, { ttl: this.ttl }))
    model.set(
      this.space.id,
      this.key,
      this.value,
      this.ttl ?? 1_000,
      this.space === Items ? [`id:${this.key.id}`] : [],
    )
  }
  toString = () => `set(${this.space.name}, ${JSON.stringify(this.key)}, ttl=${this.ttl})`
}

class GetCommand implements Command {
  constructor(
    readonly space: Space,
    readonly key: { id: number; name: string },
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    const got = await real.run(real.cache.get(this.space, this.key))
    model.expectRead(this.space.id, this.key, got, "results equal the model")
  }
  toString = () => `get(${this.space.name}, ${JSON.stringify(this.key)})`
}

class SetThenGetCommand implements Command {
  constructor(
    readonly space: Space,
    readonly key: { id: number; name: string },
    readonly value: Item,
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    await real.run(real.cache.set(this.space, this.key, this.value))
    model.set(this.space.id, this.key, this.value, 1_000, this.space === Items ? [`id:${this.key.id}`] : [])
    const got = await real.run(real.cache.get(this.space, this.key))
    expect(got, "read-your-writes").toEqual(Option.some(this.value))
  }
  toString = () => `setThenGet(${this.space.name}, ${JSON.stringify(this.key)})`
}

class DeleteCommand implements Command {
  constructor(
    readonly space: Space,
    readonly key: { id: number; name: string },
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    await real.run(real.cache.delete(this.space, this.key))
    model.entries.delete(Model.key(this.space.id, this.key))
    const got = await real.run(real.cache.get(this.space, this.key))
    expect(got, "a delete is a miss until a later set").toEqual(Option.none())
  }
  toString = () => `delete(${this.space.name}, ${JSON.stringify(this.key)})`
}

class GetOrSetCommand implements Command {
  constructor(
    readonly space: Space,
    readonly key: { id: number; name: string },
    readonly value: Item,
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    const fresh = model.fresh(this.space.id, this.key)
    const loader = Effect.sync(() => {
      real.loads.count++
      return this.value
    })
    const loadsBefore = real.loads.count
    const got = await real.run(real.cache.getOrSet(this.space, this.key, loader))
    if (fresh === undefined || (model.evicts && real.loads.count > loadsBefore)) {
      model.loads++
      model.set(this.space.id, this.key, this.value, 1_000, this.space === Items ? [`id:${this.key.id}`] : [])
      expect(got, "results equal the model").toEqual(this.value)
    } else {
      expect(got, "results equal the model").toEqual(fresh)
    }
    expect(real.loads.count, "the loader runs only on a miss").toBe(model.loads)
  }
  toString = () => `getOrSet(${this.space.name}, ${JSON.stringify(this.key)})`
}

class AdvanceCommand implements Command {
  constructor(readonly millis: number) {}
  check = () => true
  async run(model: Model, real: Real) {
    await real.run(TestClock.adjust(this.millis))
    model.now += this.millis
  }
  toString = () => `advance(${this.millis})`
}

/** Moves time to exactly the expiry of an entry, where it must already be a miss. */
class AdvanceToExpiryCommand implements Command {
  constructor(
    readonly space: Space,
    readonly key: { id: number; name: string },
  ) {}
  check = (model: Readonly<Model>) => model.fresh(this.space.id, this.key) !== undefined
  async run(model: Model, real: Real) {
    const entry = model.entries.get(Model.key(this.space.id, this.key))!
    const millis = entry.freshUntil - model.now
    await real.run(TestClock.adjust(millis - 1))
    model.now += millis - 1
    model.expectRead(
      this.space.id,
      this.key,
      await real.run(real.cache.get(this.space, this.key)),
      "fresh until the last millisecond",
    )
    await real.run(TestClock.adjust(1))
    model.now += 1
    expect(
      await real.run(real.cache.get(this.space, this.key)),
      "nothing is returned at or after expiry",
    ).toEqual(Option.none())
  }
  toString = () => `advanceToExpiry(${this.space.name}, ${JSON.stringify(this.key)})`
}

class MutateReturnedCommand implements Command {
  constructor(
    readonly space: Space,
    readonly key: { id: number; name: string },
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    const got = await real.run(real.cache.get(this.space, this.key))
    if (Option.isSome(got)) {
      const value = got.value as { n: number; label: string; list: Array<number> }
      for (const mutate of [
        () => {
          value.n = -1
        },
        () => {
          value.label = "mutated"
        },
        () => value.list.push(99),
        () => {
          ;(value as unknown as Record<string, unknown>).extra = true
        },
      ]) {
        try {
          mutate()
        } catch {
          // Frozen values refuse mutation; refusing is one correct outcome.
        }
      }
    }
    const again = await real.run(real.cache.get(this.space, this.key))
    model.expectRead(this.space.id, this.key, again, "mutating a returned value changes nothing")
  }
  toString = () => `mutateReturned(${this.space.name}, ${JSON.stringify(this.key)})`
}

class ClearCommand implements Command {
  constructor(readonly space: Space) {}
  check = () => true
  async run(model: Model, real: Real) {
    await real.run(real.cache.clear(this.space))
    for (const key of [...model.entries.keys()])
      if (key.startsWith(`${this.space.id}|`)) model.entries.delete(key)
  }
  toString = () => `clear(${this.space.name})`
}

class InvalidateTagCommand implements Command {
  constructor(readonly id: number) {}
  check = () => true
  async run(model: Model, real: Real) {
    await real.run(real.cache.invalidateTag(`id:${this.id}`))
    for (const [key, entry] of [...model.entries])
      if (entry.tags.includes(`id:${this.id}`)) model.entries.delete(key)
  }
  toString = () => `invalidateTag(id:${this.id})`
}

class GetManyCommand implements Command {
  constructor(
    readonly space: Space,
    readonly keys: ReadonlyArray<{ id: number; name: string }>,
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    const got = await real.run(real.cache.getMany(this.space, this.keys))
    for (let i = 0; i < this.keys.length; i++) {
      model.expectRead(this.space.id, this.keys[i], got[i]!, "results equal the model")
    }
  }
  toString = () => `getMany(${this.space.name}, ${this.keys.length} keys)`
}

/** Arbitrary JSON-like documents must round-trip exactly and stay independent of the caller's copy. */
class DocumentCommand implements Command {
  constructor(
    readonly key: string,
    readonly value: unknown,
  ) {}
  check = () => true
  async run(model: Model, real: Real) {
    const mine = structuredClone(this.value)
    await real.run(real.cache.set(Documents, this.key, mine))
    model.set(Documents.id, this.key, this.value, 500)
    if (typeof mine === "object" && mine !== null) (mine as Record<string, unknown>).callerMutated = true
    const got = await real.run(real.cache.get(Documents, this.key))
    expect(got, "results equal the model").toEqual(Option.some(this.value))
  }
  toString = () => `document(${JSON.stringify(this.key)})`
}

const everyCommand = [
  fc.tuple(space, itemKey, item, ttl).map(([s, k, v, t]) => new SetCommand(s, k, v, t)),
  fc.tuple(space, itemKey).map(([s, k]) => new GetCommand(s, k)),
  fc.tuple(space, itemKey, item).map(([s, k, v]) => new SetThenGetCommand(s, k, v)),
  fc.tuple(space, itemKey).map(([s, k]) => new DeleteCommand(s, k)),
  fc.tuple(space, itemKey, item).map(([s, k, v]) => new GetOrSetCommand(s, k, v)),
  fc.integer({ min: 1, max: 1_500 }).map((ms) => new AdvanceCommand(ms)),
  fc.tuple(space, itemKey).map(([s, k]) => new AdvanceToExpiryCommand(s, k)),
  fc.tuple(space, itemKey).map(([s, k]) => new MutateReturnedCommand(s, k)),
  space.map((s) => new ClearCommand(s)),
  fc.integer({ min: 0, max: 3 }).map((id) => new InvalidateTagCommand(id)),
  fc.tuple(space, fc.array(itemKey, { maxLength: 5 })).map(([s, ks]) => new GetManyCommand(s, ks)),
  fc
    .tuple(fc.constantFrom("a", "b", "a:b", "é"), Arbitraries.storableValue)
    .map(([k, v]) => new DocumentCommand(k, v)),
]

/**
 * Registers the model-based test of a cache configuration, one test per
 * invariant, each running `numRuns` random command sequences.
 *
 * @example
 * ```ts
 * cacheModel("L1 only", { layer: () => Cache.layer() })
 * cacheModel("memory store as the only tier", { layer: () => Cache.layer({ l1: false, l2: MemoryStore.layer() }) })
 * ```
 */
export const cacheModel = (name: string, options: CacheUnderTest): void => {
  const numRuns = options.numRuns ?? 1_000

  const check = async (commands: Array<fc.Arbitrary<Command>>, maxCommands = 40) => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands }), async (cmds) => {
        const runtime = ManagedRuntime.make(options.layer().pipe(Layer.provideMerge(TestClock.layer())))
        try {
          const cache = await runtime.runPromise(
            Effect.gen(function* () {
              return yield* Cache.Cache
            }),
          )
          const real: Real = { cache, run: (effect) => runtime.runPromise(effect), loads: { count: 0 } }
          await fc.asyncModelRun(() => ({ model: new Model(options.evicts ?? false), real }), cmds)
        } finally {
          await runtime.dispose()
        }
      }),
      { numRuns },
    )
  }

  describe(`Cache model: ${name}`, () => {
    it("results equal the model for any sequence of operations", () => check(everyCommand))

    it("read-your-writes: a get right after a set returns the value set", () =>
      check([everyCommand[2]!, everyCommand[0]!, everyCommand[5]!, everyCommand[3]!]))

    it("a delete is a miss until a later set", () =>
      check([everyCommand[3]!, everyCommand[0]!, everyCommand[1]!, everyCommand[4]!]))

    it("nothing is returned at or after expiry", () =>
      check([everyCommand[0]!, everyCommand[6]!, everyCommand[5]!, everyCommand[1]!, everyCommand[4]!]))

    it("mutating a returned value changes nothing", () =>
      check([everyCommand[0]!, everyCommand[7]!, everyCommand[4]!, everyCommand[11]!]))

    it("key encoding is injective across keyspaces and keys: writes to one key never show under another", () =>
      check([everyCommand[0]!, everyCommand[1]!, everyCommand[10]!, everyCommand[8]!, everyCommand[9]!]))
  })
}
