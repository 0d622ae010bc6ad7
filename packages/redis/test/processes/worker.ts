/**
 * A test process: one cache over Redis (a RedisStore and a RedisBus), driven
 * over IPC by MultiProcess.test.ts. Each command answers with its result and
 * wall-clock times (`performance.timeOrigin + performance.now()`), comparable
 * across processes on one machine.
 */
import { Cache, type CacheEvent, Keyspace } from "@strata/core"
import { RedisBus, RedisStore } from "@strata/redis"
import { WorkerProcess } from "@strata/testkit/servers"
import { Effect, Exit, Option, Schema, Scope } from "effect"

const Items = Keyspace.make({
  name: "mp.item",
  key: Schema.String,
  value: Schema.Struct({ value: Schema.String, by: Schema.Int }),
  ttl: "10 minutes",
})

const wall = () => performance.timeOrigin + performance.now()
let unhandled = 0
process.on("unhandledRejection", () => unhandled++)
process.on("uncaughtException", () => unhandled++)

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const scope = Effect.runSync(Scope.make())
const { cache, bus } = await Effect.runPromise(
  Scope.provide(
    Effect.gen(function* () {
      const store = yield* RedisStore.make({
        url: env("STRATA_REDIS_URL"),
        prefix: "mp:",
        commandTimeoutMillis: 300,
      })
      const bus = yield* RedisBus.make({
        url: process.env.STRATA_BUS_URL ?? env("STRATA_REDIS_URL"),
        channel: env("STRATA_CHANNEL"),
        heartbeatMillis: 200,
        heartbeatTimeoutMillis: 600,
        commandTimeoutMillis: 300,
      })
      const cache = yield* Cache.make(
        { lease: { ttl: 2_000, pollInterval: 20 }, circuitBreaker: { cooldown: 200 } },
        store,
        bus,
      )
      return { cache, bus }
    }),
    scope,
  ),
)
const events: Array<CacheEvent & { at: number }> = []
cache.onEvent((event) => events.push({ ...event, at: wall() }))

const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromiseExit(effect)
const readValue = (exit: Exit.Exit<Option.Option<{ value: string }>, unknown>) =>
  Exit.isSuccess(exit) ? (Option.isSome(exit.value) ? exit.value.value.value : null) : "error"

type Command = WorkerProcess.Command

const handle = async (command: Command): Promise<unknown> => {
  switch (command.op) {
    case "stampede": {
      const { key, callers, loaderMillis } = command as unknown as {
        key: string
        callers: number
        loaderMillis: number
      }
      let loaderCalls = 0
      const loader = Effect.sync(() => {
        loaderCalls++
      }).pipe(
        Effect.andThen(Effect.sleep(loaderMillis)),
        Effect.as({ value: `loaded by ${process.pid}`, by: process.pid }),
      )
      const startedAt = wall()
      const results = await Promise.all(
        Array.from({ length: callers }, async () => {
          const exit = await run(cache.getOrSet(Items, key, loader))
          return { value: Exit.isSuccess(exit) ? exit.value.value : "error", doneAt: wall() }
        }),
      )
      return {
        loaderCalls,
        startedAt,
        values: [...new Set(results.map((r) => r.value))],
        doneAt: results.map((r) => r.doneAt),
      }
    }
    case "set": {
      const startedAt = wall()
      const exit = await run(
        cache.set(Items, command.key as string, { value: command.value as string, by: process.pid }),
      )
      return { ok: Exit.isSuccess(exit), startedAt, doneAt: wall() }
    }
    case "get":
      return readValue(await run(cache.get(Items, command.key as string)))
    case "peek":
      return cache.peekUnsafe(Items, command.key as string)?.value ?? null
    case "watch": {
      // Polls L1 until it no longer holds `value`; answers when.
      const deadline = wall() + (command.timeoutMillis as number)
      for (;;) {
        if (cache.peekUnsafe(Items, command.key as string)?.value !== command.value) return { at: wall() }
        if (wall() > deadline) return { at: null }
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    case "readLoop": {
      // Reads (L1, else L2) every `every` ms for `millis` ms; answers every read with its time.
      const reads: Array<[number, string | null]> = []
      const until = wall() + (command.millis as number)
      while (wall() < until) {
        const at = wall()
        reads.push([at, readValue(await run(cache.get(Items, command.key as string)))])
        await new Promise((resolve) => setTimeout(resolve, command.every as number))
      }
      return reads
    }
    case "block": {
      const until = Date.now() + (command.millis as number)
      while (Date.now() < until) {
        // Busy: the event loop processes nothing.
      }
      return { at: wall() }
    }
    case "status":
      return {
        stats: cache.stats(),
        bus: bus.diagnostics(),
        unhandled,
        gaps: events.filter((e) => e._tag === "BusGap"),
      }
    case "exit":
      await Effect.runPromise(Scope.close(scope, Exit.void))
      setImmediate(() => process.exit(0))
      return "bye"
    default:
      throw new Error(`unknown command ${command.op}`)
  }
}

WorkerProcess.serve(handle)
