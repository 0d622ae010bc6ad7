/**
 * What the black-box suites assert about failures, in one place: the tagged
 * errors of the issue-9 contract, and checks by `_tag` and `instanceof`
 * (never by message text).
 *
 * `CacheClosed`, `InvalidArgument` and `LoaderCycle` are new in the contract:
 * until @strata/core exports them this file does not typecheck, and at run
 * time they are `undefined`, so the `_tag` check is what fails first.
 */
import * as Core from "@strata/core"
import { CacheClosed, InvalidArgument, LoaderCycle } from "@strata/core"
import { expect } from "vitest"

export { CacheClosed, InvalidArgument, LoaderCycle }

/** Every failure a caller may see from a public function (issue 9): nothing else is allowed. */
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

/** The class of each tag, when @strata/core exports it. */
const classOf = (tag: Tag): (abstract new (...args: Array<never>) => unknown) | undefined =>
  (Core as unknown as Record<string, (abstract new (...args: Array<never>) => unknown) | undefined>)[tag]

/** What a failure looks like to a user: its `_tag`, or `untyped <name>: <message>`. */
export const describeFailure = (error: unknown): string => {
  if (typeof error === "object" && error !== null && typeof (error as { _tag?: unknown })._tag === "string")
    return (error as { _tag: string })._tag
  if (error instanceof Error) return `untyped ${error.constructor.name}: ${error.message}`
  return `untyped ${typeof error}: ${String(error)}`
}

/** Asserts `error` is a Strata error with one of `tags`: an `Error`, with the `_tag`, an instance of its class. */
export const expectTagged = (error: unknown, tags: ReadonlyArray<Tag>, what = "the failure") => {
  expect(tags, `${what}: ${describeFailure(error)}`).toContain(describeFailure(error))
  expect(error).toBeInstanceOf(Error)
  const cls = classOf((error as { _tag: Tag })._tag)
  expect(cls, `@strata/core exports ${(error as { _tag: Tag })._tag}`).toBeDefined()
  expect(error).toBeInstanceOf(cls!)
}

/** The outcome of a call as data: `{ ok, value }` or `{ ok: false, error }`, also for synchronous throws. */
export const settle = async <A>(
  f: () => A | Promise<A>,
): Promise<{ ok: true; value: A } | { ok: false; error: unknown }> => {
  try {
    return { ok: true, value: await f() }
  } catch (error) {
    return { ok: false, error }
  }
}

/** Asserts `f` fails (rejects or throws) with one of `tags`. */
export const expectFailure = async (
  f: () => unknown,
  tags: ReadonlyArray<Tag>,
  what = "the call",
): Promise<void> => {
  const outcome = await settle(f)
  expect(outcome.ok, `${what} must fail with ${tags.join(" or ")}, it resolved`).toBe(false)
  if (!outcome.ok) expectTagged(outcome.error, tags, what)
}

/** Resolves with `promise`'s outcome, or `"pending"` if it has not settled within `millis`. */
export const within = <A>(
  promise: Promise<A>,
  millis: number,
): Promise<{ ok: true; value: A } | { ok: false; error: unknown } | "pending"> =>
  Promise.race([
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
    new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), millis)),
  ])
