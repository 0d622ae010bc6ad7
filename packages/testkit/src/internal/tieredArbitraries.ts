/**
 * The arbitraries of the tiered model's commands, and the command sets its
 * tests run.
 */
import fc from "fast-check"
import {
  Clear,
  type Command,
  Delete,
  DeleteCounter,
  DeleteThenGetOrSet,
  Get,
  GetMany,
  GetOrSet,
  Increment,
  InvalidateTag,
  SetCounter,
  SetEntry,
  SetMany,
  SetThenClear,
  Wait,
} from "./tieredCommands.ts"
import { counterKeys, type Item, type ItemKey, ids, names, type Role, type Writer } from "./tieredWorld.ts"

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
const setThenClear = fc
  .tuple(writer, writer, role, itemKey, item)
  .map(([w, c, r, k, v]) => new SetThenClear(w, c, r, k, v))
const clear = fc
  .tuple(writer, fc.constantFrom<Role | "counters">("items", "others", "counters"))
  .map(([w, s]) => new Clear(w, s))

/**
 * Command sets: `every` runs every command (delete-then-fill and
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
    setThenClear,
  ],
  deleteThenFill: [deleteThenGetOrSet, del, getOrSet, get, set],
  counters: [increment, deleteThenIncrement, deleteCounter],
  tagsAndClear: [set, getOrSet, setMany, invalidateTag, clear, setThenClear, getMany],
  setCounter: [increment, setCounter],
  expiry: [
    fc.tuple(writer, role, itemKey, item, shortTtl).map(([w, r, k, v, t]) => new SetEntry(w, r, k, v, t)),
    fc.tuple(writer, role, itemKey, item, shortTtl).map(([w, r, k, v, t]) => new GetOrSet(w, r, k, v, t)),
    get,
    del,
    fc.integer({ min: 10, max: 200 }).map((ms) => new Wait(ms)),
  ],
} satisfies Record<string, Array<fc.Arbitrary<Command>>>
