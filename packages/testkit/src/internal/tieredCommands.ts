/**
 * The commands of the tiered model. Each runs one operation on a writer,
 * checks the operation's own answer against the model, updates the model,
 * then ends with {@link verifyAll}: every key read by both writers and by
 * fresh caches.
 */
import { Effect, Option } from "effect"
import type fc from "fast-check"
import { expect } from "vitest"
import { agree, type TieredState, verifyAll } from "./tieredState.ts"
import type { Item, ItemKey, Role, Span, World, Writer } from "./tieredWorld.ts"

/** A command of the tiered model: runs on the real caches, checks against the model. */
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

/** `get` on a writer: returns what the model holds. */
export class Get extends Step {
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

/** `getOrSet` on a writer: the value held, or the loader's (called exactly once) on a miss. */
export class GetOrSet extends Step {
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

/** `set` on a writer, with the keyspace's TTL or an override (ms). */
export class SetEntry extends Step {
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

/** `delete` of an entry on a writer. */
export class Delete extends Step {
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
export class DeleteThenGetOrSet extends Step {
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

/** `getMany` on a writer: each answer is what the model holds. */
export class GetMany extends Step {
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

/** `setMany` on a writer; a key listed twice takes its last value. */
export class SetMany extends Step {
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

/** `increment` of a counter by `by` (negative too), optionally right after a `delete` of it. */
export class Increment extends Step {
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

/** `delete` of a counter on a writer. */
export class DeleteCounter extends Step {
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
export class SetCounter extends Step {
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

/** `invalidateTag` of the tag an `items` entry with this id carries. */
export class InvalidateTag extends Step {
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

/** `clear` of a whole keyspace on a writer. */
export class Clear extends Step {
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

/**
 * A `set` on one writer, a read of it on both (so their L1s hold it), then a
 * `clear` of its keyspace: a read the other writer issues the moment the
 * clear reaches it must already miss.
 */
export class SetThenClear extends Step {
  constructor(
    readonly writer: Writer,
    readonly clearer: Writer,
    readonly role: Role,
    readonly key: ItemKey,
    readonly value: Item,
  ) {
    super()
  }
  readonly actors = () => [this.writer, this.clearer]
  async act(model: TieredState, world: World) {
    const space = world.spaces[this.role]
    await world.exec(world.caches[this.writer].set(space, this.key, this.value))
    await world.settle()
    for (const w of ["a", "b"] as const) {
      const got = await world.exec(world.caches[w].get(space, this.key))
      expect(got, `writer ${label(w)} reads the value set before the clear (${this})`).toEqual(
        Option.some(this.value),
      )
    }
    // Only the clear's delivery is probed: at the set's, the value was still current.
    world.readAtDelivery = true
    await world.exec(world.caches[this.clearer].clear(space))
    model.clear(this.role)
  }
  toString = () =>
    `${label(this.writer)}.set(${this.role}, ${show(this.key)}) then ${label(this.clearer)}.clear(${this.role})`
}

/** Real time passes (expiry tests only). */
export class Wait extends Step {
  constructor(readonly millis: number) {
    super()
  }
  readonly actors = () => []
  async act() {
    await new Promise((resolve) => setTimeout(resolve, this.millis))
  }
  toString = () => `wait(${this.millis} ms)`
}
