/**
 * The algorithms by name, for the stores.
 *
 * @since 0.1.0
 */
import type { Algorithm, Name } from "../Algorithm.ts"
import { fixedWindow } from "./FixedWindow.ts"
import { gcra } from "./Gcra.ts"
import { slidingLog } from "./SlidingLog.ts"
import { slidingWindow } from "./SlidingWindow.ts"
import { tokenBucket } from "./TokenBucket.ts"

/** Each algorithm under its name. */
export const byName: Readonly<Record<Name, Algorithm<any>>> = {
  "fixed-window": fixedWindow,
  "sliding-log": slidingLog,
  "sliding-window": slidingWindow,
  "token-bucket": tokenBucket,
  gcra,
}
