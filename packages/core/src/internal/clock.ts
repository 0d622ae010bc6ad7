import { Clock, Context } from "effect"

const liveClock = Context.get(Context.empty(), Clock.Clock)

/**
 * A monotonic millisecond clock read from Effect's `Clock`, for expiry of
 * in-process entries: it never jumps with the wall clock, and under
 * `TestClock` it moves only when the test adjusts it. The live clock is read
 * through `performance.now()` directly, which costs a fraction of building a
 * bigint per read on the hit path.
 */
export const monotonicMillis = (clock: Clock.Clock): (() => number) =>
  clock === liveClock ? () => performance.now() : () => Number(clock.monotonicTimeNanosUnsafe()) / 1e6

/** Whether `clock` is Effect's live clock (its monotonic time is `performance.now()`). */
export const isLive = (clock: Clock.Clock): boolean => clock === liveClock
