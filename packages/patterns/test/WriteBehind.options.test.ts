/**
 * The in-process writer's options are checked before anything is built, the
 * same way by its Effect form (`WriteBehind.make`) and its Promise form
 * (`createWriteBehind`): a misspelt option, a missing `flush` or keyspace, an
 * empty name is `InvalidArgument` naming the option, never a writer that
 * silently ignores it or fails every flush.
 */
import { createWriteBehind, WriteBehind } from "@strata/patterns"
import { Cause, Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { LastSeen, source } from "./fixtures.ts"

type AnyOptions = WriteBehind.Options<number, number, never, never>
const { flush } = source<number, number>()
const promiseFlush = async () => {}

/** What `make` failed with (its typed error), or a description of its success or defect. */
const viaEffect = async (options: unknown) => {
  const exit = await Effect.runPromiseExit(
    Effect.scoped(Effect.flatMap(WriteBehind.make(options as AnyOptions), (writer) => writer.close)),
  )
  if (Exit.isSuccess(exit)) return "a writer was built"
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  return failure === undefined ? `not a typed failure: ${Cause.pretty(exit.cause)}` : failure.error
}

/** What `createWriteBehind` rejected with; a writer it built anyway is closed. */
const viaPromise = (options: unknown) =>
  createWriteBehind(options as Parameters<typeof createWriteBehind<number, number>>[0]).then(
    async (writer) => {
      await writer.close().catch(() => {})
      return "a writer was built"
    },
    (error: unknown) => error,
  )

describe("WriteBehind options: checked before anything is built, in both forms", () => {
  it("a misspelt option is InvalidArgument naming it and listing the valid ones", async () => {
    for (const [misspelt, value] of [
      ["flushIntervalMilis", 50],
      ["maxbatch", 10],
      ["flush_er", 1],
      ["claimIdleMillis", 1_000], // the durable writer's option: not one of this writer's
    ] as const) {
      for (const [form, refused] of [
        ["effect", await viaEffect({ keyspace: LastSeen, flush, [misspelt]: value })],
        ["promise", await viaPromise({ keyspace: LastSeen, flush: promiseFlush, [misspelt]: value })],
      ] as const) {
        expect(refused, `${form} ${misspelt}`).toMatchObject({ _tag: "InvalidArgument", argument: misspelt })
        expect((refused as Error).message).toContain("flushIntervalMillis, maxPending")
      }
    }
  })

  it("a missing or non-function flush is InvalidArgument flush in the Promise form too", async () => {
    for (const options of [{ keyspace: LastSeen }, { keyspace: LastSeen, flush: 42 }]) {
      expect(await viaEffect(options)).toMatchObject({ _tag: "InvalidArgument", argument: "flush" })
      expect(await viaPromise(options)).toMatchObject({ _tag: "InvalidArgument", argument: "flush" })
    }
  })

  it("a missing keyspace, an empty name or no options at all are InvalidArgument, not a TypeError", async () => {
    for (const [options, argument] of [
      [{ flush }, "keyspace"],
      [{ keyspace: { id: "x" }, flush }, "keyspace"],
      [{ keyspace: LastSeen, flush, name: "" }, "name"],
      [{ keyspace: LastSeen, flush, name: 7 }, "name"],
      [undefined, "options"],
    ] as const) {
      expect(await viaEffect(options), argument).toMatchObject({ _tag: "InvalidArgument", argument })
      const promiseOptions = options === undefined ? undefined : { ...options, flush: promiseFlush }
      expect(await viaPromise(promiseOptions), argument).toMatchObject({ _tag: "InvalidArgument", argument })
    }
  })

  it("good options still make a writer in both forms", async () => {
    expect(await viaEffect({ keyspace: LastSeen, flush, name: "seen", maxBatch: 5 })).toBe(
      "a writer was built",
    )
    expect(await viaPromise({ keyspace: LastSeen, flush: promiseFlush, flushIntervalMillis: 5 })).toBe(
      "a writer was built",
    )
  })
})
