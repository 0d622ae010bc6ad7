import { Cache } from "@strata/core"
import { Session } from "@strata/patterns"
import { RedisBus, RedisStore } from "@strata/redis"
import { Effect, Option, Schema } from "effect"

// #region declare
const Cart = Schema.Struct({ items: Schema.Record(Schema.String, Schema.Int) })

const Carts = Session.make({
  name: "shop.cart",
  key: Schema.Struct({ userId: Schema.Int }),
  value: Cart,
  idleTimeout: "30 minutes", // every read or change keeps the cart another 30 minutes
  user: ({ userId }) => userId, // all of a user's session data is dropped together
})
const RecentlyViewed = Session.make({
  name: "shop.recent",
  key: Schema.Int,
  value: Schema.Array(Schema.String),
  idleTimeout: "1 day",
  user: (userId) => userId,
})
// #endregion declare

// #region change
// Pure: under contention it runs again on the newer cart, so no concurrent change is lost.
const addItem = (userId: number, sku: string) =>
  Session.update(Carts, { userId }, (cart) => ({
    items: { ...cart?.items, [sku]: (cart?.items[sku] ?? 0) + 1 },
  }))
// #endregion change

export const main = (url: string) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        // Two caches with their own L1 over one Redis: two web processes.
        const cacheOf = Effect.gen(function* () {
          const store = yield* RedisStore.make({ url, prefix: "docs-session:" })
          const bus = yield* RedisBus.make({ url, channel: "docs-session:bus" })
          return yield* Cache.make({}, store, bus)
        })
        const [web1, web2] = [yield* cacheOf, yield* cacheOf]
        const on = <A, E>(cache: Cache.Service, effect: Effect.Effect<A, E, Cache.Cache>) =>
          Effect.provideService(effect, Cache.Cache, cache)

        // #region use
        // Two requests of user 7 add to the cart at the same moment, on two processes.
        yield* Effect.all([on(web1, addItem(7, "tea")), on(web2, addItem(7, "cup"))], { concurrency: 2 })
        yield* on(
          web1,
          Session.update(RecentlyViewed, 7, (seen) => ["tea", ...(seen ?? [])].slice(0, 20)),
        )
        const cart = yield* on(web2, Session.get(Carts, { userId: 7 })) // extends the expiry too

        // Logout: every session entry of user 7, of every kind, in every process.
        yield* on(web1, Session.dropUser(7))
        const afterLogout = yield* on(web2, Session.get(Carts, { userId: 7 }))
        // #endregion use
        return {
          cart: Option.getOrUndefined(cart),
          afterLogout: Option.getOrUndefined(afterLogout),
          recentGone: Option.isNone(yield* on(web2, Session.get(RecentlyViewed, 7))),
        }
      }),
    ),
  )
