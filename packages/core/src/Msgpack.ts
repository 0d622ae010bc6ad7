/**
 * Strata's wire codec, for drivers: `pack` writes plain data with msgpackr,
 * `unpack` reads it back with a strict decoder that never builds a class
 * instance or touches a prototype, and `checkStorable` rejects what would not
 * read back exactly. Bus drivers use it for their messages; the cache uses it
 * for entries.
 *
 * @since 0.1.0
 */
export { checkStorable, NotStorable, pack, Undecodable, unpack } from "./internal/msgpack.ts"
