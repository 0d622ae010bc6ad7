/**
 * The durable writer's options are checked before anything connects, the
 * same way by its Effect form (`WriteBehindStream.make`) and its Promise
 * form (`createWriteBehindStream`): a misspelt option, a missing `flush` or
 * `redis`, an empty `stream`, `group` or `consumer`, a non-boolean
 * `flusher` is `InvalidArgument` naming the option. The server is there so
 * that a check that is missing shows as a writer that was built.
 */
import { createWriteBehindStream, WriteBehindStream } from "@strata/patterns/redis"
import { RedisHarness } from "@strata/testkit"
import { Cause, Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LastSeen } from "../fixtures.ts"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

type AnyOptions = WriteBehindStream.Options<number, number, never, never>
const flush = () => Effect.void
const promiseFlush = async () => {}
let streams = 0
const good = () => ({
  redis: { url: server.url, commandTimeoutMillis: 5_000 },
  keyspace: LastSeen,
  stream: `wb-options:${++streams}`,
})

/** What `make` failed with (its typed error), or a description of its success or defect. */
const viaEffect = async (options: object | undefined) => {
  const exit = await Effect.runPromiseExit(
    Effect.scoped(Effect.flatMap(WriteBehindStream.make(options as AnyOptions), (writer) => writer.close)),
  )
  if (Exit.isSuccess(exit)) return "a writer was built"
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  return failure === undefined ? `not a typed failure: ${Cause.pretty(exit.cause)}` : failure.error
}

/** What `createWriteBehindStream` rejected with; a writer it built anyway is closed. */
const viaPromise = (options: object | undefined) =>
  createWriteBehindStream(options as Parameters<typeof createWriteBehindStream<number, number>>[0]).then(
    async (writer) => {
      await writer.close().catch(() => {})
      return "a writer was built"
    },
    (error: unknown) => error,
  )

/** Both forms' answers to `options` (with an Effect or a Promise `flush` where it has one). */
const both = async (options: Record<string, unknown>) => [
  await viaEffect({ ...options, ...("flush" in options ? { flush: options.flush ?? flush } : {}) }),
  await viaPromise({ ...options, ...("flush" in options ? { flush: options.flush ?? promiseFlush } : {}) }),
]

describe("WriteBehindStream options: checked before connecting, in both forms", () => {
  it("a misspelt option is InvalidArgument naming it and listing the valid ones", async () => {
    for (const [misspelt, value] of [
      ["flushIntervalMilis", 50],
      ["maxbatch", 10],
      ["claimIdleMs", 1_000],
      ["flush_er", 1],
      ["maxPending", 10], // the in-process writer's option: not one of this writer's
    ] as const)
      for (const refused of await both({ ...good(), flush: undefined, [misspelt]: value })) {
        expect(refused, misspelt).toMatchObject({ _tag: "InvalidArgument", argument: misspelt })
        expect((refused as Error).message).toContain("claimIdleMillis, maxLength")
      }
  })

  it("a missing or non-function flush is InvalidArgument flush in the Promise form too", async () => {
    for (const options of [good(), { ...good(), flush: 42 }]) {
      expect(await viaEffect(options)).toMatchObject({ _tag: "InvalidArgument", argument: "flush" })
      expect(await viaPromise(options)).toMatchObject({ _tag: "InvalidArgument", argument: "flush" })
    }
  })

  it("an empty or non-string stream, group or consumer, and a non-boolean flusher, are InvalidArgument naming it", async () => {
    for (const [argument, value] of [
      ["stream", ""],
      ["stream", 42],
      ["group", ""],
      ["consumer", ""],
      ["flusher", "yes"],
    ] as const)
      for (const refused of await both({ ...good(), flush: undefined, [argument]: value }))
        expect(refused, `${argument}: ${JSON.stringify(value)}`).toMatchObject({
          _tag: "InvalidArgument",
          argument,
        })
  })

  it("a missing redis connection, one that says nowhere, or a misspelt connection option is InvalidArgument, not a TypeError", async () => {
    const { keyspace, stream } = good()
    for (const [redis, argument] of [
      [undefined, "redis"],
      [{}, "redis"],
      [{ commandTimeoutMillis: 5_000 }, "redis"],
      [{ url: server.url, commandTimeoutMilis: 5_000 }, "redis.commandTimeoutMilis"],
    ] as const)
      for (const refused of await both({ redis, keyspace, stream, flush: undefined }))
        expect(refused, JSON.stringify(redis)).toMatchObject({ _tag: "InvalidArgument", argument })
    for (const refused of await both({ keyspace, stream, flush: undefined }))
      expect(refused).toMatchObject({ _tag: "InvalidArgument", argument: "redis" })
    expect(await viaEffect(undefined)).toMatchObject({ _tag: "InvalidArgument", argument: "options" })
  })

  it("good options still make a writer in both forms", async () => {
    expect(
      await both({ ...good(), flush: undefined, group: "g", consumer: "c", flusher: false, maxBatch: 5 }),
    ).toEqual(["a writer was built", "a writer was built"])
  })
})
