/**
 * The model side of the tiered model: what a correct tiered cache holds,
 * and the check every command ends with, where both writers and two fresh
 * readers read every key and must agree with it.
 *
 * Time is real (a Redis server expires keys on its own clock), so an entry
 * is known to expire somewhere between `start + ttl` and `end + ttl` of the
 * command that wrote it. A read wholly before that window must see the
 * entry, a read wholly after it must not, and a read that overlaps it may
 * see either (but never another value).
 */
import { Option } from "effect"
import { expect } from "vitest"
import {
  counterUniverse,
  type Item,
  type ItemKey,
  itemUniverse,
  type Role,
  roles,
  type Snapshot,
  type Span,
  type World,
  type Writer,
  writers,
} from "./tieredWorld.ts"

/** Clock skew allowed between the model's `Date.now()`, the engine's clocks and the store's expiry, in ms. */
const SLACK_MILLIS = 5

interface Held {
  readonly value: Item
  readonly tagId: number | undefined
  /** Wall-clock ms between which the entry stops being fresh. */
  readonly earliest: number
  readonly latest: number
}

/** What a read may return: the value, nothing, or (near expiry) either. */
export type Expectation =
  | { readonly _tag: "Present"; readonly value: unknown }
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Either"; readonly value: unknown }

/** The model: what a correct tiered cache answers. Keys are normalised as the key encoding documents (NFC). */
export class TieredState {
  readonly entries = new Map<string, Held>()
  readonly counters = new Map<string, number>()
  /** Loader calls a correct cache makes: one per miss. */
  loads = 0

  static key(role: Role, key: ItemKey): string {
    return `${role}|${key.id}|${key.name.normalize("NFC")}`
  }

  write(role: Role, key: ItemKey, value: Item, ttlMillis: number, span: Span) {
    this.entries.set(TieredState.key(role, key), {
      value,
      tagId: role === "items" ? key.id : undefined,
      earliest: span.start + ttlMillis,
      latest: span.end + ttlMillis,
    })
  }

  drop(role: Role, key: ItemKey) {
    this.entries.delete(TieredState.key(role, key))
  }

  /** What a read during `span` may return; forgets entries certainly expired. */
  expect(role: Role, key: ItemKey, span: Span): Expectation {
    const k = TieredState.key(role, key)
    const held = this.entries.get(k)
    if (held === undefined) return { _tag: "Absent" }
    if (span.end < held.earliest - SLACK_MILLIS) return { _tag: "Present", value: held.value }
    if (span.start >= held.latest + SLACK_MILLIS) {
      this.entries.delete(k)
      return { _tag: "Absent" }
    }
    return { _tag: "Either", value: held.value }
  }

  /** The value a read during `span` must return, if it must return one. */
  fresh(role: Role, key: ItemKey, span: Span): Item | undefined {
    const e = this.expect(role, key, span)
    return e._tag === "Present" ? (e.value as Item) : undefined
  }

  invalidateTag(id: number) {
    for (const [k, held] of [...this.entries]) if (held.tagId === id) this.entries.delete(k)
  }

  clear(space: Role | "counters") {
    if (space === "counters") this.counters.clear()
    else for (const k of [...this.entries.keys()]) if (k.startsWith(`${space}|`)) this.entries.delete(k)
  }
}

/** Whether two reads are equal, cheaply; `expect` runs only when they may differ (it costs ~20 µs a call). */
const sameRead = (got: Option.Option<unknown>, value: unknown): boolean =>
  Option.isSome(got) && value !== undefined && JSON.stringify(got.value) === JSON.stringify(value)

/** Asserts one read against an expectation; `invariant` names the property in words. */
export const agree = (got: Option.Option<unknown>, expected: Expectation, invariant: () => string) => {
  if (expected._tag === "Either") {
    if (Option.isSome(got) && !sameRead(got, expected.value))
      expect(got.value, invariant()).toEqual(expected.value)
    return
  }
  if (expected._tag === "Absent" ? Option.isNone(got) : sameRead(got, expected.value)) return
  expect(got, invariant()).toEqual(expected._tag === "Present" ? Option.some(expected.value) : Option.none())
}

/** Asserts one counter read: the model's count, or nothing when the model has none. */
const agreeCount = (
  got: Option.Option<unknown> | undefined,
  count: number | undefined,
  invariant: () => string,
) => {
  if (
    count === undefined ? got !== undefined && Option.isNone(got) : got !== undefined && sameRead(got, count)
  )
    return
  expect(got, invariant()).toEqual(count === undefined ? Option.none() : Option.some(count))
}

const describeKey = (key: unknown) => JSON.stringify(key)

/**
 * The check every command ends with: once the writers have settled, writer
 * A and writer B (`get`, through their L1s) and two new caches with empty
 * L1s (`get` and `getMany`, from the shared tier) read every key of the
 * universe, and each answer must agree with the model. `actors` are the
 * writers the command ran on: for them the property is read-your-writes.
 */
export const verifyAll = async (
  model: TieredState,
  world: World,
  command: string,
  actors: ReadonlyArray<Writer>,
): Promise<void> => {
  await world.settle()
  const atDelivery = await world.takeDeliveryReads()
  const start = Date.now()
  // Nothing is written while they read, so the four readers run at once.
  const snapshots: ReadonlyArray<readonly [string, Snapshot]> = await Promise.all([
    ...writers.map(async (w) => {
      const invariant = actors.includes(w)
        ? `read-your-writes: writer ${w.toUpperCase()}, which ran the command, reads what the model holds`
        : `once its invalidation is delivered, writer ${w.toUpperCase()} serves no previous value`
      return [invariant, await world.readAll(world.caches[w], "get")] as const
    }),
    world
      .fresh("get")
      .then(
        (s) => ["a fresh cache (empty L1, get) reads from the shared tier what the model holds", s] as const,
      ),
    world
      .fresh("getMany")
      .then(
        (s) =>
          ["a fresh cache (empty L1, getMany) reads from the shared tier what the model holds", s] as const,
      ),
  ])
  const span = { start, end: Date.now() }
  if (world.troubles.length > 0)
    expect(
      world.troubles,
      `nothing the engine wrote is unreadable and no store call fails (after ${command})`,
    ).toEqual([])
  for (const read of atDelivery) {
    const invariant = `a read issued the moment ${read.message} reached writer ${read.writer.toUpperCase()} serves no previous value — after ${command}`
    if (read.space === "counters") {
      counterUniverse.forEach((key, i) => {
        agreeCount(read.found[i], model.counters.get(key), () => `${invariant}: counter ${describeKey(key)}`)
      })
    } else {
      const role = read.space
      itemUniverse.forEach((key, i) => {
        agree(
          read.found[i]!,
          model.expect(role, key, read.span),
          () => `${invariant}: ${role} ${describeKey(key)}`,
        )
      })
    }
  }
  for (const [invariant, snapshot] of snapshots) {
    for (const role of roles) {
      itemUniverse.forEach((key, i) => {
        agree(
          snapshot[role][i]!,
          model.expect(role, key, span),
          () => `${invariant} — after ${command}: ${role} ${describeKey(key)}`,
        )
      })
    }
    counterUniverse.forEach((key, i) => {
      agreeCount(
        snapshot.counters[i],
        model.counters.get(key),
        () => `${invariant} — after ${command}: counter ${describeKey(key)}`,
      )
    })
  }
}
