/**
 * On a 3-master Redis Cluster: every decision touches one key, so each
 * algorithm's script runs as on one server, whichever slot the key lands in.
 */
import { type Algorithm, RateLimiter, RateLimitStore } from "@strata/ratelimit"
import { RedisRateStore } from "@strata/ratelimit/redis"
import { RedisHarness } from "@strata/testkit/servers"
import { Effect, Exit, Scope } from "effect"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { limiterOf } from "./redisHelpers.ts"

let cluster: RedisHarness.RedisCluster
let scope: Scope.Closeable
let store: RateLimitStore.Service

beforeAll(async () => {
  cluster = await RedisHarness.startCluster(3)
  scope = Effect.runSync(Scope.make())
  store = await Effect.runPromise(
    Scope.provide(
      RedisRateStore.make({ cluster: { nodes: cluster.startupNodes }, commandTimeoutMillis: 2_000 }),
      scope,
    ),
  )
})
afterAll(async () => {
  if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  await cluster?.stop()
})

const algorithms: ReadonlyArray<Algorithm.Name> = [
  "fixed-window",
  "sliding-log",
  "sliding-window",
  "token-bucket",
  "gcra",
]

describe("RedisRateStore on a Cluster", () => {
  it("each algorithm admits exactly its limit per key, for keys spread over every master", async () => {
    for (const algorithm of algorithms) {
      const limiter = limiterOf(algorithm, { limit: 3, windowMillis: 60_000 })
      // 12 keys: with 16,384 slots over 3 masters, they land on more than one master.
      const admitted = await Effect.runPromise(
        Effect.forEach(
          Array.from({ length: 12 }, (_, k) => `key-${k}`),
          (key) =>
            Effect.forEach([1, 2, 3, 4], () => RateLimiter.consume(limiter, key)).pipe(
              Effect.map((decisions) => decisions.map((d) => d.allowed)),
            ),
        ).pipe(Effect.provideService(RateLimitStore.RateLimitStore, store)),
      )
      for (const perKey of admitted) expect(perKey).toEqual([true, true, true, false])
    }
  })

  it("the keys used above do live on more than one master", async () => {
    const node = new Redis(cluster.startupNodes[0]!.port, "127.0.0.1")
    try {
      const ranges = (await node.cluster("SLOTS")) as unknown as Array<[number, number, [string, number]]>
      const owners = new Set<number>()
      for (let k = 0; k < 12; k++) {
        const slot = (await node.cluster("KEYSLOT", `rl:gcra:t.gcra:v1:'key-${k}'`)) as unknown as number
        owners.add(ranges.find(([from, to]) => slot >= from && slot <= to)![2][1])
      }
      expect(owners.size).toBeGreaterThan(1)
    } finally {
      node.disconnect()
    }
  })
})
