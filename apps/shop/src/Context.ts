/**
 * What the patterns and routes share: the database, the cache, one reader
 * per cached keyspace, the view-count buffer and the meters.
 */
import type { KeyspaceClient, StrataCache } from "@strata/core"
import type { Database } from "./db/Database.ts"
import type { Meters } from "./Meters.ts"
import type { Cart, Product, ReviewStats } from "./Model.ts"
import type { Reader } from "./patterns/ReadThrough.ts"
import type { ViewBuffer } from "./patterns/WriteBehind.ts"

export interface ShopContext {
  readonly db: Database
  readonly cache: StrataCache
  readonly meters: Meters
  readonly products: Reader<{ readonly id: number }, Product>
  readonly categoryIds: Reader<{ readonly categoryId: number; readonly page: number }, ReadonlyArray<number>>
  readonly reviewStats: Reader<{ readonly productId: number }, ReviewStats>
  readonly searches: Reader<
    { readonly terms: string; readonly categoryId: number; readonly page: number },
    ReadonlyArray<number>
  >
  readonly carts: KeyspaceClient<{ readonly userId: number }, Cart>
  readonly views: ViewBuffer
}
