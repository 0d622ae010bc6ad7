/**
 * A benchmark process for the multi-process workloads (W8, W9, W11): builds
 * the system named in its environment and runs commands sent over IPC.
 */
import { WorkerProcess } from "@strata/testkit/servers"
import { Effect, Option } from "effect"
import { user } from "./measure.ts"
import {
  bentocache,
  cacheable,
  cacheManager,
  type Peer,
  type StrataSystem,
  strata,
  Users,
} from "./systems.ts"
import { zipfSampler } from "./zipf.ts"

const env = (name: string) => process.env[name] ?? ""
const system = env("BENCH_SYSTEM")
const redisUrl = env("BENCH_REDIS_URL")
const redisPort = Number(env("BENCH_REDIS_PORT"))
const prefix = env("BENCH_PREFIX")
const wall = () => performance.timeOrigin + performance.now()

const strataSystems: Record<string, StrataSystem> = {}
let peer: Peer | undefined
if (system === "strata") {
  const l1Entries = Number(env("BENCH_L1_ENTRIES") || "10000")
  strataSystems.tiered = await strata({
    redisUrl,
    prefix,
    l1: { maxEntries: l1Entries },
    lease: { ttl: "2 seconds", pollInterval: "50 millis" },
  })
  strataSystems.l2only = await strata({ redisUrl, prefix, l1: false })
} else if (system === "bentocache") peer = bentocache(redisPort)
else if (system === "cache-manager") peer = cacheManager(redisUrl)
else if (system === "cacheable") peer = cacheable(redisUrl)
else throw new Error(`unknown system ${system}`)

type Command = WorkerProcess.Command

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

const handle = async (command: Command): Promise<unknown> => {
  switch (command.op) {
    case "zipf": {
      const { seconds, keys, alpha, readRatio, seed, config, concurrency } = command as unknown as {
        seconds: number
        keys: number
        alpha: number
        readRatio: number
        seed: number
        config: "tiered" | "l2only"
        concurrency: number
      }
      const { cache } = strataSystems[config]!
      const sample = zipfSampler(keys, alpha, seed)
      let random = seed >>> 0
      const next = () => {
        random = (random * 1664525 + 1013904223) >>> 0
        return random / 2 ** 32
      }
      const before = cache.stats()
      const until = performance.now() + seconds * 1000
      let ops = 0
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < until) {
            const userId = sample()
            if (next() < readRatio) {
              await Effect.runPromise(
                cache.getOrSet(
                  Users,
                  { userId },
                  Effect.sync(() => user(userId)),
                ),
              )
            } else {
              await Effect.runPromise(cache.set(Users, { userId }, user(userId)))
            }
            ops++
          }
        }),
      )
      const after = cache.stats()
      return {
        ops,
        seconds,
        l1Hits: after.hitsL1 - before.hitsL1,
        l2Hits: after.hitsL2 - before.hitsL2,
        misses: after.misses - before.misses,
      }
    }
    case "stampede": {
      const { key, callers, loaderMillis } = command as unknown as {
        key: number
        callers: number
        loaderMillis: number
      }
      let loaderCalls = 0
      let loaderEndedAt: number | undefined
      const startedAt = wall()
      const loadPromise = async () => {
        loaderCalls++
        await sleep(loaderMillis)
        loaderEndedAt ??= wall()
        return user(key)
      }
      const doneAt: Array<number> = []
      if (peer !== undefined) {
        await Promise.all(
          Array.from({ length: callers }, async () => {
            const value = (await peer!.getOrSet(`${prefix}stampede:${key}`, loadPromise)) as
              | { id?: number }
              | undefined
            if (value?.id !== key)
              throw new Error(
                `${system} returned ${JSON.stringify(value)?.slice(0, 80)} instead of the loaded value`,
              )
            doneAt.push(wall())
          }),
        )
      } else {
        const { cache } = strataSystems.tiered!
        const loader = Effect.promise(loadPromise)
        await Promise.all(
          Array.from({ length: callers }, async () => {
            const value = await Effect.runPromise(cache.getOrSet(Users, { userId: key }, loader))
            if (value.id !== key) throw new Error("wrong value")
            doneAt.push(wall())
          }),
        )
      }
      return { loaderCalls, startedAt, loaderEndedAt, lastDoneAt: Math.max(...doneAt) }
    }
    case "getOrSet": {
      const { key, loaderMillis } = command as unknown as { key: number; loaderMillis: number }
      const { cache } = strataSystems.tiered!
      let loaderCalls = 0
      const value = await Effect.runPromise(
        cache.getOrSet(
          Users,
          { userId: key },
          Effect.sync(() => {
            loaderCalls++
          }).pipe(Effect.andThen(Effect.sleep(loaderMillis)), Effect.as(user(key))),
        ),
      )
      return { doneAt: wall(), loaderCalls, ok: value.id === key }
    }
    case "get": {
      const found = await Effect.runPromise(
        strataSystems.tiered!.cache.get(Users, { userId: command.key as number }),
      )
      return Option.isSome(found)
    }
    case "exit":
      for (const s of Object.values(strataSystems)) await s.close()
      await peer?.close()
      setImmediate(() => process.exit(0))
      return "bye"
    default:
      throw new Error(`unknown command ${command.op}`)
  }
}

WorkerProcess.serve(handle)
