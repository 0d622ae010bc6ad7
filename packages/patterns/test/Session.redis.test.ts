import { Cache } from "@strata/core"
import { Session } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { RedisHarness } from "@strata/testkit"
import { Effect, Exit, Option, Schema, Scope } from "effect"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { addOne, Cart } from "./fixtures.ts"

const Carts = Session.make({
  name: "test.redis.cart",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Cart,
  idleTimeout: "1500 millis",
  user: ({ userId }) => userId,
})

let server: RedisHarness.RedisServer
let scope: Scope.Closeable
/** Three caches, each with its own L1, sharing one Redis (store and bus): three processes' worth. */
let caches: ReadonlyArray<Cache.Service>

beforeAll(async () => {
  server = await RedisHarness.startRedis()
  scope = Effect.runSync(Scope.make())
  const makeCache = Effect.gen(function* () {
    const store = yield* RedisStore.make({ url: server.url, prefix: "session-test:" })
    const bus = yield* RedisBus.make({ url: server.url, channel: "session-test:bus" })
    return yield* Cache.make({}, store, bus)
  })
  caches = await Effect.runPromise(Scope.provide(Effect.all([makeCache, makeCache, makeCache]), scope))
})
afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await RedisHarness.stopAll([server])
})

const on = <A, E>(cache: Cache.Service, effect: Effect.Effect<A, E, Cache.Cache>) =>
  Effect.provideService(effect, Cache.Cache, cache)

describe("Session on real Redis", () => {
  it("concurrent changes of one user's cart from several caches are never lost", async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean()), { minLength: 2, maxLength: 16 }),
        async (ops) => {
          const user = { userId: ++run }
          // Every op at once: changes add a distinct item; reads extend the expiry (writes too).
          const expected: Record<string, number> = {}
          await Effect.runPromise(
            Effect.all(
              ops.map(([index, isChange], i) => {
                if (!isChange) return on(caches[index]!, Session.get(Carts, user))
                expected[`sku-${i}`] = 1
                return on(caches[index]!, Session.update(Carts, user, addOne(`sku-${i}`)))
              }),
              { concurrency: "unbounded" },
            ),
          )
          for (const cache of caches) {
            const cart = await Effect.runPromise(on(cache, Session.get(Carts, user)))
            if (Object.keys(expected).length === 0) expect(cart).toEqual(Option.none())
            else expect(cart).toEqual(Option.some({ items: expected }))
          }
        },
      ),
      { numRuns: 15 },
    )
  })

  it("sliding expiry on Redis: data accessed every 500 ms outlives its 1.5 s idle timeout, then expires when left idle", async () => {
    const user = { userId: 100_000 }
    const [a, b] = caches
    await Effect.runPromise(on(a!, Session.update(Carts, user, addOne("apple"))))
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      const seen = await Effect.runPromise(on(i % 2 === 0 ? b! : a!, Session.get(Carts, user)))
      expect(seen).toEqual(Option.some({ items: { apple: 1 } }))
    }
    await new Promise((resolve) => setTimeout(resolve, 4_500))
    expect(await Effect.runPromise(on(b!, Session.get(Carts, user)))).toEqual(Option.none())
  })

  it("dropUser drops the user's data for every cache", async () => {
    const user = { userId: 200_000 }
    await Effect.runPromise(on(caches[0]!, Session.update(Carts, user, addOne("pear"))))
    await Effect.runPromise(on(caches[1]!, Session.get(Carts, user)))
    await Effect.runPromise(on(caches[2]!, Session.dropUser(user.userId)))
    for (const cache of caches)
      expect(await Effect.runPromise(on(cache, Session.get(Carts, user)))).toEqual(Option.none())
  })
})
