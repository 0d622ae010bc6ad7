/**
 * What the patterns and routes share: the database, the cache, one reader
 * per cached keyspace, the view-count buffer and the meters.
 */
import type { Cache, Keyspace, KeyspaceClient } from "@strata/core"
import type { Database } from "./db/Database.ts"
import type { Meters } from "./Meters.ts"
import type { Cart, Product, ReviewStats } from "./Model.ts"
import type { Reader } from "./patterns/ReadThrough.ts"
import type { ViewBuffer } from "./patterns/WriteBehind.ts"

/** The operations of one keyspace the shop uses (a subset of the facade's `KeyspaceClient`). */
export type ShopClient<K, V> = Pick<
  KeyspaceClient<K, V>,
  "peek" | "get" | "getOrSet" | "getOrSetMany" | "update" | "clear"
>

/** The cache as the shop uses it: the Promise facade, or the traced Effect-built cache (`TracedCache.ts`). */
export interface ShopCache {
  readonly keyspace: <K, V>(keyspace: Keyspace.Keyspace<K, V>) => ShopClient<K, V>
  readonly invalidateTag: (tag: string) => Promise<void>
  readonly stats: () => Cache.Stats
  readonly close: () => Promise<void>
  /** With tracing on: runs `handler` as the span `name`, the parent of the cache's spans inside it. */
  readonly traced?: <A>(name: string, handler: () => Promise<A>) => Promise<A>
}

export interface ShopContext {
  readonly db: Database
  readonly cache: ShopCache
  readonly meters: Meters
  readonly products: Reader<{ readonly id: number }, Product>
  readonly categoryIds: Reader<{ readonly categoryId: number; readonly page: number }, ReadonlyArray<number>>
  readonly reviewStats: Reader<{ readonly productId: number }, ReviewStats>
  readonly searches: Reader<
    { readonly terms: string; readonly categoryId: number; readonly page: number },
    ReadonlyArray<number>
  >
  readonly carts: ShopClient<{ readonly userId: number }, Cart>
  readonly views: ViewBuffer
}
