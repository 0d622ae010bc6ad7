/**
 * The shapes of request bodies and parameters, checked before any work: a
 * bad one fails with `BadRequest` naming what is wrong.
 */
import { Schema } from "effect"
import { BadRequest } from "./Errors.ts"

const between = (minimum: number, maximum: number) => Schema.Int.check(Schema.isBetween({ minimum, maximum }))

/**
 * Text the database can store: PostgreSQL's text has no NUL character, so a
 * body holding one is a 400 here, not a database error (a 500) later.
 */
const Text = (maxLength: number, minLength = 0) =>
  Schema.String.check(
    Schema.isMinLength(minLength),
    Schema.isMaxLength(maxLength),
    Schema.makeFilter((s: string) => !s.includes("\u0000") || "must not contain a NUL character"),
  )

/** `PUT /api/products/:id`: the fields to change, at least one. */
export const ProductUpdate = Schema.Struct({
  priceCents: Schema.optionalKey(between(0, 100_000_000)),
  stock: Schema.optionalKey(between(0, 1_000_000)),
  name: Schema.optionalKey(Text(200, 1)),
})

/** `POST /api/products/:id/reviews`. */
export const NewReview = Schema.Struct({
  userId: between(1, 2 ** 31 - 1),
  rating: between(1, 5),
  body: Text(2_000),
})

/** `POST /api/carts/:userId/items`. */
export const CartAdd = Schema.Struct({
  productId: between(1, 2 ** 31 - 1),
  quantity: between(1, 100),
})

/** Decodes `input` with `schema`, or throws `BadRequest` with the schema's message. */
export const decode = <S extends Schema.Codec<any, any, never, never>>(
  schema: S,
  input: unknown,
): S["Type"] => {
  try {
    return Schema.decodeUnknownSync(schema)(input)
  } catch (error) {
    throw new BadRequest({ message: error instanceof Error ? error.message : String(error) })
  }
}

/** A whole-number parameter in `[min, max]` (path or query string); `fallback` when absent. */
export const intParam = (
  value: unknown,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number => {
  if ((value === undefined || value === "") && fallback !== undefined) return fallback
  const n = typeof value === "string" && /^-?\d{1,10}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new BadRequest({
      message: `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    })
  return n
}

/** A currency code parameter: three capital letters (`EUR`). */
export const currencyParam = (value: unknown): string => {
  if (typeof value !== "string" || !/^[A-Z]{3}$/.test(value))
    throw new BadRequest({
      message: `currency must be a three-letter code in capitals such as EUR, got ${JSON.stringify(value)}`,
    })
  return value
}

/** A text query parameter given at most once (`?q=a&q=b` is a 400), at most `max` characters, no NUL. */
export const textParam = (value: unknown, name: string, max: number): string => {
  if (value === undefined) return ""
  if (typeof value !== "string")
    throw new BadRequest({ message: `${name} must be given once, got ${JSON.stringify(value)}` })
  if (value.length > max) throw new BadRequest({ message: `${name} is longer than ${max} characters` })
  if (value.includes("\u0000")) throw new BadRequest({ message: `${name} must not contain a NUL character` })
  return value
}
