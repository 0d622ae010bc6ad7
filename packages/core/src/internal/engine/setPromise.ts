/**
 * `set` for the Promise facade without an Effect run: the same steps as the
 * write path's `set` (check and encode before any I/O; the L2 step through
 * the breaker; then drop the written copies, void their fills, fill L1 and
 * publish, or on a failure whose outcome is unknown publish anyway), on
 * plain Promises. It applies where nothing needs the effect machinery:
 * spans off, a store with `setPromise`, a keyspace without tags (their
 * versions are read from L2 first) and no per-call options. Anywhere else,
 * and for input the effect path refuses with a typed error, it answers
 * `undefined` and the caller takes the effect path.
 */
import { Effect } from "effect"
import type { Message } from "../../Bus.ts"
import type { StoreError } from "../../Errors.ts"
import type { Keyspace } from "../../Keyspace.ts"
import type { BusEvents } from "./busEvents.ts"
import { storeKeyOrError } from "./inputs.ts"
import type { SharedTier } from "./sharedTier.ts"
import { afterFailure, afterSuccess, type Writes } from "./writes.ts"

/** Builds the Promise `set` (see the module comment); `undefined` when no call could take it. */
export const make = (
  l2: SharedTier,
  bus: BusEvents,
  writes: Pick<Writes, "dropKeys" | "keepWritten" | "encode">,
) => {
  const storeSet = l2.store?.setPromise
  const via = l2.viaPromise
  if (storeSet === undefined || via === undefined) return undefined
  /** The bus only queues a message (its failures are events): nothing to wait for. */
  const publish = (message: Message) => {
    Effect.runFork(bus.publish(message))
  }
  return <K, V>(keyspace: Keyspace<K, V>, key: K, value: V): Promise<void> | undefined => {
    if (keyspace.tags !== undefined) return undefined
    const storeKey = storeKeyOrError(keyspace, key)
    if (typeof storeKey !== "string") return undefined
    const prepared = writes.encode(keyspace, value, keyspace.ttlMillis, keyspace.staleForMillis, undefined)
    if ("_tag" in prepared) return undefined
    const invalidate = writes.dropKeys(keyspace.id, [storeKey])
    const announce = (): Message => ({ _tag: "InvalidateKeys", space: keyspace.id, keys: [storeKey] })
    return via("set", () => storeSet(keyspace.id, storeKey, prepared.bytes, prepared.ttlMillis)).then(
      () => {
        const fill = () => writes.keepWritten(keyspace, storeKey, prepared)
        publish(afterSuccess(invalidate, fill, announce, undefined))
      },
      (error: StoreError) => {
        const message = afterFailure(invalidate, announce(), error)
        if (message !== undefined) publish(message)
        throw error
      },
    )
  }
}
