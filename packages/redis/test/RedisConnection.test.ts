import { RedisBus, RedisConnection, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit"
import { Effect, Exit, type Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"

let server: RedisHarness.RedisServer
beforeAll(async () => {
  server = await RedisHarness.startRedis()
})
afterAll(async () => {
  await RedisHarness.stopAll([server])
})

describe("RedisConnection", () => {
  it("runs commands and closes its connection with the scope", async () => {
    const { reply, client } = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const connection = yield* RedisConnection.make({ url: server.url })
          yield* connection.call("set", (c) => c.set("rc:k", "v"))
          const reply = yield* connection.call("get", (c) => c.get("rc:k"))
          return { reply, client: connection.client }
        }),
      ),
    )
    expect(reply).toBe("v")
    await vi.waitFor(() => expect(client.status).toBe("end"), { timeout: 2_000 })
  })

  it("a refused command is StoreUnavailable with reason rejected; an unreachable server fails startup", async () => {
    const rejected = await Effect.runPromiseExit(
      Effect.scoped(
        Effect.gen(function* () {
          const connection = yield* RedisConnection.make({ url: server.url })
          return yield* connection.call("bogus", (c) => c.call("NO-SUCH-COMMAND"))
        }),
      ),
    )
    expect(Exit.isFailure(rejected) && JSON.stringify(rejected.cause)).toContain('"reason":"rejected"')
    const port = await RedisHarness.freePort()
    const unreachable = await Effect.runPromiseExit(
      Effect.scoped(RedisConnection.make({ url: `redis://127.0.0.1:${port}`, connectTimeoutMillis: 300 })),
    )
    expect(Exit.isFailure(unreachable) && JSON.stringify(unreachable.cause)).toContain('"reason":"startup"')
  })

  it("a command slower than the command timeout is a Timeout", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.scoped(
        Effect.gen(function* () {
          const connection = yield* RedisConnection.make({ url: server.url, commandTimeoutMillis: 100 })
          return yield* connection.call("sleep", (c) => c.call("DEBUG", "SLEEP", "0.3"))
        }),
      ),
    )
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain('"_tag":"Timeout"')
  })

  it("an unusable timeout is InvalidArgument before anything connects (not a startup failure)", async () => {
    for (const options of [
      { commandTimeoutMillis: -5 },
      { connectTimeoutMillis: Number.NaN },
      { socketTimeoutMillis: -1 },
    ]) {
      const exit = await Effect.runPromiseExit(
        Effect.scoped(RedisConnection.make({ url: server.url, ...options })),
      )
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause), JSON.stringify(options)).toContain(
        '"_tag":"InvalidArgument"',
      )
    }
  })
})

describe("where and how to connect", () => {
  it("a misspelt store or bus option is InvalidArgument; no url, redis or cluster is a startup failure, not 127.0.0.1:6379", async () => {
    const tagOf = async (effect: Effect.Effect<unknown, unknown, Scope.Scope>) => {
      const exit = await Effect.runPromiseExit(Effect.scoped(effect))
      return Exit.isFailure(exit) ? JSON.stringify(exit.cause) : "succeeded"
    }
    expect(await tagOf(RedisStore.make({ url: server.url, commandTimeoutMilis: 5 } as never))).toContain(
      '"_tag":"InvalidArgument"',
    )
    expect(await tagOf(RedisBus.make({ url: server.url, chanel: "x" } as never))).toContain(
      '"_tag":"InvalidArgument"',
    )
    const nowhere = await tagOf(RedisStore.make({ urll: server.url } as never))
    expect(nowhere).toContain('"_tag":"InvalidArgument"')
    expect(await tagOf(RedisStore.make({ connectTimeoutMillis: 300 }))).toContain('"reason":"startup"')
  })
})
