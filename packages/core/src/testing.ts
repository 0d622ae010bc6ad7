/**
 * `@strata/core/testing`: switches for tests that prove the engine's guards
 * are needed. Nothing here belongs in production code; it is a separate
 * entry point so the main API carries no such switch.
 *
 * @since 0.1.0
 */
import type { Options } from "./CacheOptions.ts"
import { UNGUARDED } from "./internal/engine/config.ts"

/**
 * `options` with the guards against stale fills turned off (fill tickets and
 * compare-and-set fills): a cache built with them stores a load that read a
 * key before a write or delete after it. Only for tests that show the guards
 * are needed.
 *
 * @example
 * ```ts
 * const naive = yield* Cache.make(withoutFillGuards({}), store, bus)
 * ```
 */
export const withoutFillGuards = (options: Options): Options => ({ ...options, [UNGUARDED]: true }) as Options
