/**
 * Carts as session data (`@strata/patterns`' `Session`): kept in the cache
 * only, one entry per user, every access extending it by the idle timeout,
 * and changed atomically (compare-and-set with retries), so concurrent
 * requests of one user (two tabs, a double click) never lose an item.
 */
import { Cache } from "@strata/core"
import { Session } from "@strata/patterns"
import { Effect, Option } from "effect"
import type { ShopContext } from "../Context.ts"
import { Carts } from "../Keyspaces.ts"
import type { Meter } from "../Meters.ts"
import type { Cart, CartLine } from "../Model.ts"
import * as Products from "./Products.ts"

const on = <A, E>(shop: ShopContext, effect: Effect.Effect<A, E, Cache.Cache>) =>
  shop.cache.run(Effect.provideService(effect, Cache.Cache, shop.cache.service))

/** `GET /api/carts/:userId`: the cart (empty when there is none). */
export const get =
  (shop: ShopContext) =>
  async (userId: number): Promise<Cart> =>
    Option.getOrElse(await on(shop, Session.get(Carts, { userId })), () => ({ userId, lines: [] }))

/** `POST /api/carts/:userId/items`: adds `quantity` of a product and returns the cart; fails with `ProductNotFound`. */
export const add = (shop: ShopContext, meter: Meter) => {
  const products = Products.repository(shop, meter)
  return async (userId: number, productId: number, quantity: number): Promise<Cart> => {
    await Products.find(shop, meter, products, productId)
    // Pure: on a conflict it runs again on the newer cart.
    return on(
      shop,
      Session.update(Carts, { userId }, (current) => {
        const lines: Array<CartLine> = [...(current?.lines ?? [])]
        const at = lines.findIndex((line) => line.productId === productId)
        if (at === -1) lines.push({ productId, quantity })
        else lines[at] = { productId, quantity: lines[at]!.quantity + quantity }
        return { userId, lines }
      }),
    )
  }
}
