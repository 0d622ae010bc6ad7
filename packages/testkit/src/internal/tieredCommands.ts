/**
 * The commands of the tiered model. Each runs one operation on a writer,
 * checks the operation's own answer against the model, updates the model,
 * then ends with {@link verifyAll}: every key read by both writers and by
 * fresh caches.
 */
import { Effect } from "effect"
import fc from "fast-check"
import { expect } from "vitest"
import { agree, type TieredState, verifyAll } from "./tieredState.ts"
import {
  counterKeys,
  type Item,
  type ItemKey,
  ids,
  names,
  type Role,
  type Span,
  type World,
  type Writer,
} from "./tieredWorld.ts"

export type Command = fc.AsyncCommand<TieredState, World>

const label = (w: Writer) => w.toUpperCase()
const show = (key: unknown) => JSON.stringify(key)

/** Runs `f` and returns its result with the wall-clock span it took. */
const timed = async <A>(f: () => Promise<A>): Promise<[A, Span]> => {
  const start = Date.now()
  const result = await f()
  return [result, { start, end: Date.now() }]
}

abstract class Step implements Command {
  /** The writers the command runs on (read-your-writes applies to them). */
  abstract readonly actors: () => ReadonlyArray<Writer>
  /** One write whose invalidation the other writer must honour the moment it arrives. */
  readonly readsAtDelivery: boolean = false
  abstract act(model: TieredState, world: World): Promise<void>
  abstract toString(): string
  check = () => true
  async run(model: TieredState, world: World) {
    world.readAtDelivery = this.readsAtDelivery
    await this.act(model, world)
    await verifyAll(model, world, this.toString(), this.actors())
  }
}

class Get extends Step {
  constructor(
    readonly w: Writer,
    readonly role: Role,
    readonly key: ItemKey,
  ) {
    super()
  }
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    const [got, span] = await timed(() =>
      world.exec(world.caches[this.w].get(world.spaces[this.role], this.key)),
    )
    agree(got, model.expect(this.role, this.key, span), () => `get returns what the model holds (${this})`)
  }
  toString = () => `${label(this.w)}.get(${this.role}, ${show(this.key)})`
}

class GetOrSet extends Step {
  constructor(
    readonly w: Writer,
    readonly role: Role,
    readonly key: ItemKey,
    readonly value: Item,
    readonly ttl: number | undefined,
  ) {
    super()
  }
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    const before = world.loads
    const loader = Effect.sync(() => {
      world.loads++
      return this.value
    })
    const options = this.ttl === undefined ? undefined : { ttl: this.ttl }
    const [got, span] = await timed(() =>
      world.exec(world.caches[this.w].getOrSet(world.spaces[this.role], this.key, loader, options)),
    )
    const expected = model.expect(this.role, this.key, span)
    const loaded = world.loads > before
    if (expected._tag === "Present" || (expected._tag === "Either" && !loaded)) {
      expect(loaded, `the loader never runs on a hit (${this})`).toBe(false)
      expect(got, `getOrSet returns the value held (${this})`).toEqual(expected.value)
      return
    }
    expect(world.loads - before, `the loader runs exactly once on a miss (${this})`).toBe(1)
    expect(got, `getOrSet returns what the loader returned (${this})`).toEqual(this.value)
    model.write(this.role, this.key, this.value, this.ttl ?? world.ttlMillis, span)
  }
  toString = () =>
    `${label(this.w)}.getOrSet(${this.role}, ${show(this.key)}${this.ttl === undefined ? "" : `, ttl ${this.ttl}`})`
}

class SetEntry extends Step {
  constructor(
    readonly w: Writer,
    readonly role: Role,
    readonly key: ItemKey,
    readonly value: Item,
    readonly ttl: number | undefined,
  ) {
    super()
  }
  override readonly readsAtDelivery = true
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    const options = this.ttl === undefined ? undefined : { ttl: this.ttl }
    const [, span] = await timed(() =>
      world.exec(world.caches[this.w].set(world.spaces[this.role], this.key, this.value, options)),
    )
    model.write(this.role, this.key, this.value, this.ttl ?? world.ttlMillis, span)
  }
  toString = () =>
    `${label(this.w)}.set(${this.role}, ${show(this.key)}${this.ttl === undefined ? "" : `, ttl ${this.ttl}`})`
}

class Delete extends Step {
  constructor(
    readonly w: Writer,
    readonly role: Role,
    readonly key: ItemKey,
  ) {
    super()
  }
  override readonly readsAtDelivery = true
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    await world.exec(world.caches[this.w].delete(world.spaces[this.role], this.key))
    model.drop(this.role, this.key)
  }
  toString = () => `${label(this.w)}.delete(${this.role}, ${show(this.key)})`
}

/** A delete on one writer, then a load of the same key on a writer: the fill must land and be readable. */
class DeleteThenGetOrSet extends Step {
  constructor(
    readonly deleter: Writer,
    readonly filler: Writer,
    readonly role: Role,
    readonly key: ItemKey,
    readonly value: Item,
  ) {
    super()
  }
  readonly actors = () => [this.deleter, this.filler]
  async act(model: TieredState, world: World) {
    const space = world.spaces[this.role]
    await world.exec(world.caches[this.deleter].delete(space, this.key))
    model.drop(this.role, this.key)
    // The filler may hold the deleted value in L1 until the delete's invalidation is delivered.
    await world.settle()
    const before = world.loads
    const loader = Effect.sync(() => {
      world.loads++
      return this.value
    })
    const [got, span] = await timed(() =>
      world.exec(world.caches[this.filler].getOrSet(space, this.key, loader)),
    )
    expect(world.loads - before, `after a delete the loader runs exactly once (${this})`).toBe(1)
    expect(got, `a getOrSet after a delete returns what the loader returned (${this})`).toEqual(this.value)
    model.write(this.role, this.key, this.value, world.ttlMillis, span)
  }
  toString = () =>
    `${label(this.deleter)}.delete then ${label(this.filler)}.getOrSet(${this.role}, ${show(this.key)})`
}

class GetMany extends Step {
  constructor(
    readonly w: Writer,
    readonly role: Role,
    readonly keys: ReadonlyArray<ItemKey>,
  ) {
    super()
  }
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    const [got, span] = await timed(() =>
      world.exec(world.caches[this.w].getMany(world.spaces[this.role], this.keys)),
    )
    this.keys.forEach((key, i) => {
      agree(
        got[i]!,
        model.expect(this.role, key, span),
        () => `getMany returns what the model holds (${this})`,
      )
    })
  }
  toString = () => `${label(this.w)}.getMany(${this.role}, ${show(this.keys)})`
}

class SetMany extends Step {
  constructor(
    readonly w: Writer,
    readonly role: Role,
    readonly entries: ReadonlyArray<readonly [ItemKey, Item]>,
    readonly ttl: number | undefined,
  ) {
    super()
  }
  override readonly readsAtDelivery = true
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    const options = this.ttl === undefined ? undefined : { ttl: this.ttl }
    const [, span] = await timed(() =>
      world.exec(world.caches[this.w].setMany(world.spaces[this.role], this.entries, options)),
    )
    // Later entries for the same key win, as they would with one set after another.
    for (const [key, value] of this.entries)
      model.write(this.role, key, value, this.ttl ?? world.ttlMillis, span)
  }
  toString = () => `${label(this.w)}.setMany(${this.role}, ${show(this.entries.map(([k]) => k))})`
}

class Increment extends Step {
  constructor(
    readonly w: Writer,
    readonly key: string,
    readonly by: number,
    readonly deleteFirst: boolean,
  ) {
    super()
  }
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    const cache = world.caches[this.w]
    if (this.deleteFirst) {
      await world.exec(cache.delete(world.spaces.counters, this.key))
      model.counters.delete(this.key)
    }
    const count = await world.exec(cache.increment(world.spaces.counters, this.key, this.by))
    const expected = (model.counters.get(this.key) ?? 0) + this.by
    expect(
      count,
      `increment returns the previous count (or the value set) plus by; a delete restarts it at 0 (${this})`,
    ).toBe(expected)
    model.counters.set(this.key, expected)
  }
  toString = () =>
    `${label(this.w)}.${this.deleteFirst ? "delete then increment" : "increment"}(${show(this.key)}, ${this.by})`
}

class DeleteCounter extends Step {
  constructor(
    readonly w: Writer,
    readonly key: string,
  ) {
    super()
  }
  override readonly readsAtDelivery = true
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    await world.exec(world.caches[this.w].delete(world.spaces.counters, this.key))
    model.counters.delete(this.key)
  }
  toString = () => `${label(this.w)}.delete(counter ${show(this.key)})`
}

/** `set` on a counter keyspace: later increments continue from the value set. */
class SetCounter extends Step {
  constructor(
    readonly w: Writer,
    readonly key: string,
    readonly count: number,
  ) {
    super()
  }
  override readonly readsAtDelivery = true
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    await world.exec(world.caches[this.w].set(world.spaces.counters, this.key, this.count))
    model.counters.set(this.key, this.count)
  }
  toString = () => `${label(this.w)}.set(counter ${show(this.key)}, ${this.count})`
}

class InvalidateTag extends Step {
  constructor(
    readonly w: Writer,
    readonly id: number,
  ) {
    super()
  }
  override readonly readsAtDelivery = true
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    await world.exec(world.caches[this.w].invalidateTag(world.tag(this.id)))
    model.invalidateTag(this.id)
  }
  toString = () => `${label(this.w)}.invalidateTag(id:${this.id})`
}

class Clear extends Step {
  constructor(
    readonly w: Writer,
    readonly space: Role | "counters",
  ) {
    super()
  }
  override readonly readsAtDelivery = true
  readonly actors = () => [this.w]
  async act(model: TieredState, world: World) {
    const cache = world.caches[this.w]
    await world.exec(
      this.space === "counters" ? cache.clear(world.spaces.counters) : cache.clear(world.spaces[this.space]),
    )
    model.clear(this.space)
  }
  toString = () => `${label(this.w)}.clear(${this.space})`
}

/** Real time passes (expiry tests only). */
class Wait extends Step {
  constructor(readonly millis: number) {
    super()
  }
  readonly actors = () => []
  async act() {
    await new Promise((resolve) => setTimeout(resolve, this.millis))
  }
  toString = () => `wait(${this.millis} ms)`
}

const writer = fc.constantFrom<Writer>("a", "b")
const role = fc.constantFrom<Role>("items", "others")
const itemKey: fc.Arbitrary<ItemKey> = fc.record({
  id: fc.constantFrom(...ids),
  name: fc.constantFrom(...names),
})
const item: fc.Arbitrary<Item> = fc.record({
  n: fc.integer(),
  label: fc.constantFrom("", "x", "caf\u00e9", "*", "__proto__", "v1:"),
})
const counterKey = fc.constantFrom(...counterKeys)
/** Small steps, negative ones, and a few past 1e14 (where Lua's number printing changes). */
const by = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -5, max: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(1e14 + 1, -(1e14 + 3)) },
)
/** TTL overrides long enough that nothing expires during a run. */
const longTtl = fc.option(fc.constantFrom(600_000, 7_200_000), { nil: undefined })
/** Short real TTLs, for the expiry test. */
const shortTtl = fc.integer({ min: 40, max: 300 })

const get = fc.tuple(writer, role, itemKey).map(([w, r, k]) => new Get(w, r, k))
const getOrSet = fc
  .tuple(writer, role, itemKey, item, longTtl)
  .map(([w, r, k, v, t]) => new GetOrSet(w, r, k, v, t))
const set = fc
  .tuple(writer, role, itemKey, item, longTtl)
  .map(([w, r, k, v, t]) => new SetEntry(w, r, k, v, t))
const del = fc.tuple(writer, role, itemKey).map(([w, r, k]) => new Delete(w, r, k))
const deleteThenGetOrSet = fc
  .tuple(writer, writer, role, itemKey, item)
  .map(([d, f, r, k, v]) => new DeleteThenGetOrSet(d, f, r, k, v))
const getMany = fc
  .tuple(writer, role, fc.array(itemKey, { maxLength: 4 }))
  .map(([w, r, ks]) => new GetMany(w, r, ks))
const setMany = fc
  .tuple(writer, role, fc.array(fc.tuple(itemKey, item), { maxLength: 3 }), longTtl)
  .map(([w, r, es, t]) => new SetMany(w, r, es, t))
const increment = fc.tuple(writer, counterKey, by).map(([w, k, b]) => new Increment(w, k, b, false))
const deleteThenIncrement = fc.tuple(writer, counterKey, by).map(([w, k, b]) => new Increment(w, k, b, true))
const deleteCounter = fc.tuple(writer, counterKey).map(([w, k]) => new DeleteCounter(w, k))
const setCounter = fc
  .tuple(writer, counterKey, fc.integer({ min: -100, max: 100 }))
  .map(([w, k, c]) => new SetCounter(w, k, c))
const invalidateTag = fc.tuple(writer, fc.constantFrom(...ids)).map(([w, id]) => new InvalidateTag(w, id))
const clear = fc
  .tuple(writer, fc.constantFrom<Role | "counters">("items", "others", "counters"))
  .map(([w, s]) => new Clear(w, s))

/**
 * Command sets: `every` is what the brief's model runs (delete-then-fill and
 * delete-then-increment listed twice, so they come often); the others focus
 * on one concern each, so a failure names its cause.
 */
export const commands = {
  every: [
    get,
    getOrSet,
    set,
    del,
    deleteThenGetOrSet,
    deleteThenGetOrSet,
    getMany,
    setMany,
    increment,
    deleteThenIncrement,
    deleteThenIncrement,
    deleteCounter,
    invalidateTag,
    clear,
  ],
  deleteThenFill: [deleteThenGetOrSet, del, getOrSet, get, set],
  counters: [increment, deleteThenIncrement, deleteCounter],
  tagsAndClear: [set, getOrSet, setMany, invalidateTag, clear, getMany],
  setCounter: [increment, setCounter],
  expiry: [
    fc.tuple(writer, role, itemKey, item, shortTtl).map(([w, r, k, v, t]) => new SetEntry(w, r, k, v, t)),
    fc.tuple(writer, role, itemKey, item, shortTtl).map(([w, r, k, v, t]) => new GetOrSet(w, r, k, v, t)),
    get,
    del,
    fc.integer({ min: 10, max: 200 }).map((ms) => new Wait(ms)),
  ],
} satisfies Record<string, Array<fc.Arbitrary<Command>>>
