/**
 * @strata/patterns/redis: the patterns that need Redis itself (not only a
 * cache over it), kept apart so that `@strata/patterns` loads without
 * `@strata/redis` and ioredis installed.
 *
 * @since 0.1.0
 */
export * as WriteBehindStream from "./WriteBehindStream.ts"
export {
  type CreateWriteBehindStreamOptions,
  createWriteBehindStream,
  type WriteBehindStreamClient,
} from "./WriteBehindStreamClient.ts"
