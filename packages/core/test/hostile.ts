/**
 * Shared by the hostile-input suites (Hostile.test.ts, HostileNumbers.test.ts):
 * keyspaces, the tiers a user can build without a server, and how a call's
 * outcome is told apart (by `_tag`, never by message text).
 *
 * The issue-9 contract adds `CacheClosed`, `InvalidArgument` and
 * `LoaderCycle` to @strata/core; they are looked up by name here, so these
 * suites fail on their `_tag` (not on a missing import) until they exist.
 */
import * as Core from "@strata/core"
import { createCache, Keyspace, MemoryStore, type StrataCache } from "@strata/core"
import { Schema } from "effect"
import { expect } from "vitest"

/** Every failure a caller may see from a public function. */
export const TAGS = [
  "CacheClosed",
  "InvalidArgument",
  "LoaderCycle",
  "InvalidKey",
  "InvalidValue",
  "InvalidDuration",
  "InvalidKeyspace",
  "EntryTooLarge",
  "StoreUnavailable",
  "Timeout",
  "LoaderFailed",
  "BusUnavailable",
] as const
export type Tag = (typeof TAGS)[number]

export const Profiles = Keyspace.make({
  name: "hostile.profile",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Schema.Struct({ name: Schema.String }),
  ttl: "1 hour",
  staleFor: "1 day",
  tags: ({ userId }) => [`user:${userId}`],
})
export const Users = Keyspace.make({
  name: "hostile.user",
  key: Schema.String,
  value: Schema.Struct({ name: Schema.String, plan: Schema.String }),
  ttl: "10 minutes",
})
export const Likes = Keyspace.counter({ name: "hostile.likes", key: Schema.String, ttl: "1 day" })
export const Numbers = Keyspace.make({
  name: "hostile.number",
  key: Schema.Number,
  value: Schema.Number,
  ttl: "1 minute",
})
/** TTL + grace close to the 2^31 ms limit (24.8 days): 20 days + 4 days. */
export const LongLived = Keyspace.make({
  name: "hostile.long",
  key: Schema.String,
  value: Schema.Struct({ name: Schema.String }),
  ttl: "20 days",
  staleFor: "4 days",
})

export const MAX_MS = 2 ** 31 - 1

export const tiers: Record<string, () => Promise<StrataCache>> = {
  "L1 only": () => createCache(),
  "L1 over a memory store": () => createCache({ l2: MemoryStore.layer() }),
}

/** A call's outcome as a user sees it: `"ok"`, a Strata `_tag`, or `untyped ...`. */
export const describeFailure = (error: unknown): string => {
  if (typeof error === "object" && error !== null && typeof (error as { _tag?: unknown })._tag === "string")
    return (error as { _tag: string })._tag
  if (error instanceof Error) return `untyped ${error.constructor.name}: ${error.message}`
  try {
    return `untyped ${typeof error}: ${String(error)}`
  } catch {
    return `untyped ${typeof error}`
  }
}

/** Whether `error` is a Strata error with one of `tags`: an `Error`, with the `_tag`, an instance of its class. */
export const isTagged = (error: unknown, tags: ReadonlyArray<Tag>): boolean => {
  const tag = describeFailure(error)
  if (!(tags as ReadonlyArray<string>).includes(tag) || !(error instanceof Error)) return false
  const cls = (Core as unknown as Record<string, unknown>)[tag]
  return typeof cls === "function" && error instanceof (cls as new () => unknown)
}

export type Outcome<A> =
  | { readonly kind: "resolved"; readonly value: A }
  | { readonly kind: "rejected"; readonly error: unknown }
  | { readonly kind: "threw"; readonly error: unknown }

/** Runs a call and says how it ended: resolved, rejected (a Promise), or threw synchronously. */
export const outcome = async <A>(f: () => A | Promise<A>): Promise<Outcome<Awaited<A>>> => {
  let result: A | Promise<A>
  try {
    result = f()
  } catch (error) {
    return { kind: "threw", error }
  }
  try {
    return { kind: "resolved", value: (await result) as Awaited<A> }
  } catch (error) {
    return { kind: "rejected", error }
  }
}

/** `"ok"`, `rejected <tag>` or `threw <tag>`: compact text for assertion messages. */
export const show = (o: Outcome<unknown>): string =>
  o.kind === "resolved" ? "ok" : `${o.kind} ${describeFailure(o.error)}`

/**
 * Collects every wrong outcome of a test's calls, so one failure lists them
 * all: `rejects` for async methods (they must reject, not throw), `throws`
 * for synchronous ones; `done()` asserts nothing was wrong.
 */
export const checks = () => {
  const wrong: Array<string> = []
  return {
    rejects: async (f: () => unknown, tags: ReadonlyArray<Tag>, what: string) => {
      const o = await outcome(f)
      if (!(o.kind === "rejected" && isTagged(o.error, tags)))
        wrong.push(`${what}: ${show(o)} (expected a rejection with ${tags.join(" or ")})`)
    },
    throws: async (f: () => unknown, tags: ReadonlyArray<Tag>, what: string) => {
      const o = await outcome(f)
      if (!(o.kind === "threw" && isTagged(o.error, tags)))
        wrong.push(`${what}: ${show(o)} (expected it to throw ${tags.join(" or ")})`)
    },
    expect: (ok: boolean, what: string) => {
      if (!ok) wrong.push(what)
    },
    done: (what = "calls that did not fail as the contract says") => {
      expect(wrong, what).toEqual([])
    },
  }
}

/** A thing that throws whenever it is looked at. */
export const throwingProxy = () =>
  new Proxy(
    {},
    {
      get() {
        throw new Error("a Proxy trap threw")
      },
      has() {
        throw new Error("a Proxy trap threw")
      },
      ownKeys() {
        throw new Error("a Proxy trap threw")
      },
      getOwnPropertyDescriptor() {
        throw new Error("a Proxy trap threw")
      },
      getPrototypeOf() {
        throw new Error("a Proxy trap threw")
      },
    },
  )

/** A revoked Proxy: every operation on it throws a TypeError. */
export const revokedProxy = () => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

/** An object with a getter `field` that throws. */
export const throwingGetter = (field: string, rest: Record<string, unknown> = {}) =>
  Object.defineProperty({ ...rest }, field, {
    enumerable: true,
    get() {
      throw new Error(`the getter of ${field} threw`)
    },
  })

/** Opens a cache, runs `f`, and closes it. */
export const withCache = async <A>(
  open: () => Promise<StrataCache>,
  f: (cache: StrataCache) => Promise<A>,
) => {
  const cache = await open()
  try {
    return await f(cache)
  } finally {
    await cache.close().catch(() => {})
  }
}
