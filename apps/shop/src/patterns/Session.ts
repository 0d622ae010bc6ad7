/**
 * Carts as session data: kept in the cache only, one entry per user, and
 * changed with `update`, the engine's compare-and-set with retries, so
 * concurrent requests of one user (two tabs, a double click) never lose an
 * item.
 */
import type { ShopContext } from "../Context.ts"
import type { Meter } from "../Meters.ts"
import type { Cart, CartLine } from "../Model.ts"
import { findProduct } from "./ProductPage.ts"

/** The cart of `userId` (empty when there is none). */
export const getCart = async (shop: ShopContext, userId: number): Promise<Cart> =>
  (await shop.carts.get({ userId })) ?? { userId, lines: [] }

/** Adds `quantity` of a product to the cart and returns the cart; fails with `ProductNotFound`. */
export const addToCart = async (
  shop: ShopContext,
  meter: Meter,
  userId: number,
  productId: number,
  quantity: number,
): Promise<Cart> => {
  await findProduct(shop, meter, productId)
  return shop.carts.update({ userId }, (current) => {
    const lines: Array<CartLine> = [...(current?.lines ?? [])]
    const at = lines.findIndex((line) => line.productId === productId)
    if (at === -1) lines.push({ productId, quantity })
    else lines[at] = { productId, quantity: lines[at]!.quantity + quantity }
    return { userId, lines }
  })
}
